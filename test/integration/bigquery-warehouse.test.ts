/**
 * BigQueryWarehouse against a local fake of the BigQuery REST API (test/helpers/fake-bigquery.ts), through the real
 * @google-cloud/bigquery client: what goes on the wire (jobs, parameters, labels, insertAll rows) and what comes back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BigQueryWarehouse,
  type BigQueryRetryEvent,
  type BigQueryWarehouseOptions,
} from '../../shared/adapters/bigquery/bigquery-warehouse.js';
import { WarehouseError } from '../../shared/ports/warehouse.js';
import { renderBigQueryDdl, renderCreateTable } from '../../shared/adapters/bigquery/bigquery-ddl.js';
import {
  ALL_TABLES,
  gamePostponements,
  oddsApiPlayerPointsProps,
  playerPropPredictions,
  predictionStaging,
} from '../../shared/contracts/tables.js';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { param, type Row } from '../../shared/ports/warehouse.js';
import { consolidationStatements } from '../../services/coordinator/batch/merge-sql.js';
import { FakeBigQuery, staticTokenAuth, type FakeStatement } from '../helpers/fake-bigquery.js';
import { until } from '../helpers/stack.js';

const PROJECT = 'nba-test-proj';
let fake: FakeBigQuery;
let wh: BigQueryWarehouse;
let retries: BigQueryRetryEvent[];

function open(overrides: Partial<BigQueryWarehouseOptions> = {}): BigQueryWarehouse {
  return new BigQueryWarehouse({
    projectId: PROJECT,
    location: 'europe-west2',
    apiEndpoint: fake.url,
    authClient: staticTokenAuth('fake-token'),
    jobTimeoutMs: 120_000,
    timeoutMs: 30_000,
    maximumBytesBilled: 5_000_000_000,
    labels: { service: 'prediction-coordinator' },
    retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 4 },
    onRetry: (e) => retries.push(e),
    ...overrides,
  });
}

beforeEach(async () => {
  fake = await FakeBigQuery.start();
  retries = [];
  wh = open();
});

afterEach(async () => {
  await wh.close();
  await fake.close();
});

async function rejection(p: Promise<unknown>): Promise<WarehouseError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WarehouseError);
  return err as WarehouseError;
}

function stagingRow(id: string, extra: Row = {}): Row {
  return {
    prediction_id: id,
    system_id: 'catboost_v9',
    player_lookup: 'lebronjames',
    game_date: '2025-01-15',
    game_id: '0022400555',
    batch_id: 'b1',
    predicted_points: 27.349,
    confidence_score: 71.25,
    recommendation: 'OVER',
    current_points_line: 25.5,
    is_active: true,
    features_snapshot: '{"points_avg_last_5":27}',
    created_at: '2025-01-15T12:30:45.123456+02:00',
    ...extra,
  };
}

describe('queries', () => {
  it('send one job with typed parameters, labels, jobTimeoutMs, the cost guard and prefixed project tables', async () => {
    await wh.query({
      name: 'lines.odds_api',
      sql: `SELECT player_lookup FROM {{nba_raw.odds_api_player_points_props}}
            WHERE player_lookup IN UNNEST(@players) AND game_date = @game_date AND bookmaker NOT IN UNNEST(@skip)
              AND (@cutoff IS NULL OR game_date <= @cutoff) AND snapshot_timestamp >= @since
              AND minutes_before_tipoff >= @minutes AND points_line > @line AND @flag`,
      params: {
        players: param.strings(['lebronjames', 'stephcurry']),
        game_date: param.date('2025-01-15'),
        skip: param.strings([]),
        cutoff: param.date(null),
        since: param.timestamp('2025-01-15T12:30:45.123456+02:00'),
        minutes: param.int(30),
        line: param.float(0.5),
        flag: param.bool(true),
      },
      datasetPrefix: 'test1',
      labels: { batch_id: 'Batch 2025-01-15/ABC' },
    });

    expect(fake.requestsOf('jobs.insert')).toHaveLength(1);
    const [job] = fake.insertedJobs();
    const { query, labels, jobTimeoutMs } = job!.configuration;
    expect(query.query).toContain(`FROM \`${PROJECT}.test1_nba_raw.odds_api_player_points_props\``);
    expect(query.query).toContain('IN UNNEST(@players)');
    expect(query).toMatchObject({ useLegacySql: false, parameterMode: 'NAMED', maximumBytesBilled: '5000000000' });
    expect(jobTimeoutMs).toBe('120000');
    expect(labels).toEqual({ service: 'prediction-coordinator', query_name: 'lines_odds_api', batch_id: 'batch_2025-01-15_abc' });
    expect(job!.jobReference).toMatchObject({
      projectId: PROJECT,
      location: 'europe-west2',
      jobId: expect.stringMatching(/^lines_odds_api_[0-9a-f-]{36}$/),
    });
    const byName = Object.fromEntries(
      (query.queryParameters ?? []).map((p) => [p.name, { type: p.parameterType, value: p.parameterValue }]),
    );
    expect(byName).toEqual({
      players: {
        type: { type: 'ARRAY', arrayType: { type: 'STRING' } },
        value: { arrayValues: [{ value: 'lebronjames' }, { value: 'stephcurry' }] },
      },
      game_date: { type: { type: 'DATE' }, value: { value: '2025-01-15' } },
      skip: { type: { type: 'ARRAY', arrayType: { type: 'STRING' } }, value: { arrayValues: [] } },
      cutoff: { type: { type: 'DATE' }, value: { value: null } },
      since: { type: { type: 'TIMESTAMP' }, value: { value: '2025-01-15T10:30:45.123456Z' } },
      minutes: { type: { type: 'INT64' }, value: { value: '30' } },
      line: { type: { type: 'FLOAT64' }, value: { value: '0.5' } },
      flag: { type: { type: 'BOOL' }, value: { value: 'true' } },
    });
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer fake-token');
    expect(fake.requestsOf('jobs.getQueryResults')[0]!.query).toMatchObject({ 'formatOptions.useInt64Timestamp': 'true' });
  });

  it('return rows equal to the DuckDB adapter’s: numbers, DATE and TIMESTAMP strings, JSON text, arrays, records, nulls', async () => {
    fake.onQuery(() => ({
      schema: [
        { name: 'n', type: 'INTEGER' },
        { name: 'line', type: 'NUMERIC' },
        { name: 'big', type: 'BIGNUMERIC' },
        { name: 'f', type: 'FLOAT' },
        { name: 'ok', type: 'BOOLEAN' },
        { name: 'd', type: 'DATE' },
        { name: 'ts', type: 'TIMESTAMP' },
        { name: 'ts_whole', type: 'TIMESTAMP' },
        { name: 'js', type: 'JSON' },
        { name: 'ids', type: 'INTEGER', mode: 'REPEATED' },
        {
          name: 'rec',
          type: 'RECORD',
          fields: [
            { name: 'a', type: 'STRING' },
            { name: 'b', type: 'NUMERIC' },
          ],
        },
        { name: 'nothing', type: 'DATE' },
      ],
      rows: [
        {
          n: 42,
          line: '25.5',
          big: '12345.678901',
          f: 4.82,
          ok: true,
          d: '2025-01-15',
          ts: '2025-01-15T10:30:45.123456Z',
          ts_whole: '2025-01-15T17:30:00.000Z',
          js: { feature: [1, 2] },
          ids: [3, 7],
          rec: { a: 'x', b: '1.5' },
          nothing: null,
        },
      ],
    }));
    const rows = await wh.query({ name: 'test.types', sql: 'SELECT 1' });
    expect(rows).toEqual([
      {
        n: 42,
        line: 25.5,
        big: 12345.678901,
        f: 4.82,
        ok: true,
        d: '2025-01-15',
        ts: '2025-01-15T10:30:45.123456Z',
        ts_whole: '2025-01-15T17:30:00.000Z',
        js: '{"feature":[1,2]}',
        ids: [3, 7],
        rec: { a: 'x', b: 1.5 },
        nothing: null,
      },
    ]);
    expect(typeof rows[0]!.line).toBe('number');
  });

  it('read every page of a large result', async () => {
    fake.pageSize = 2;
    fake.onQuery(() => ({ schema: [{ name: 'i', type: 'INT64' }], rows: [1, 2, 3, 4, 5].map((i) => ({ i })) }));
    expect(await wh.query({ name: 'test.pages', sql: 'SELECT i' })).toEqual([1, 2, 3, 4, 5].map((i) => ({ i })));
    expect(fake.requestsOf('jobs.getQueryResults').map((r) => r.query.pageToken)).toEqual([undefined, '2', '4']);
  });

  it('refuse an INT64 beyond Number.MAX_SAFE_INTEGER instead of rounding it', async () => {
    fake.onQuery(() => ({ schema: [{ name: 'id', type: 'INTEGER' }], rows: [{ id: '9007199254740993' }] }));
    const err = await rejection(wh.query({ name: 'test.big', sql: 'SELECT id' }));
    expect(err.code).toBe('QUERY_FAILED');
    expect(err.message).toMatch(/test\.big: result row 0: column 'id': integer 9007199254740993 is beyond Number.MAX_SAFE_INTEGER/);
  });

  it('reject a referenced parameter with no value, or a bad value, before any job is created', async () => {
    const missing = await rejection(wh.query({ name: 'test.missing', sql: 'SELECT @a, @b', params: { a: param.int(1) } }));
    expect(missing).toMatchObject({ code: 'INVALID_INPUT' });
    expect(missing.message).toContain('parameter @b has no value');
    const bad = await rejection(wh.query({ name: 'test.bad', sql: 'SELECT @d', params: { d: param.date('15/01/2025') } }));
    expect(bad.message).toContain("parameter @d: '15/01/2025' is not a DATE");
    const label = await rejection(wh.query({ name: 'test.label', sql: 'SELECT 1', labels: { 'Batch-Id': 'x' } }));
    expect(label.message).toContain("label key 'Batch-Id'");
    expect(fake.requestsOf('jobs.insert')).toHaveLength(0);
  });

  it('fail with TIMEOUT when the job does not finish within timeoutMs, and ask BigQuery to cancel it', async () => {
    const slow = open({ timeoutMs: 150 });
    fake.pendingPolls = 1_000;
    const err = await rejection(slow.query({ name: 'test.slow', sql: 'SELECT 1' }));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toMatch(/did not complete within 150 ms \(cancel requested\)/);
    expect(fake.requestsOf('jobs.cancel')).toHaveLength(1);
    expect(fake.requestsOf('jobs.insert')).toHaveLength(1);
    await slow.close();
  });
});

describe('retries', () => {
  it('re-run a job that lost to a concurrent update, as a new job, then succeed', async () => {
    fake.failJobs({
      code: 400,
      reason: 'invalidQuery',
      message: `Could not serialize access to table ${PROJECT}:nba_predictions.player_prop_predictions due to concurrent update`,
    });
    fake.onQuery((st) =>
      st.sql.startsWith('MERGE') ? { affectedRows: 4 } : st.sql.startsWith('UPDATE') ? { affectedRows: 1 } : undefined,
    );
    const { statements: results } = await wh.transaction('consolidate', consolidationStatements('2025-01-15', 'b1', ''));
    expect(results.map((r) => r.affectedRows)).toEqual([4, 1, 0]);
    const jobs = fake.insertedJobs();
    expect(jobs).toHaveLength(2);
    expect(jobs[0]!.jobReference.jobId).not.toBe(jobs[1]!.jobReference.jobId);
    expect(jobs[1]!.configuration.query.query).toBe(jobs[0]!.configuration.query.query);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ operation: 'consolidate', attempt: 1, error: expect.stringContaining('concurrent update') });
  });

  it('never retry invalidQuery: one job, one error naming the query and the reason', async () => {
    fake.failJobs({ code: 400, reason: 'invalidQuery', message: 'Syntax error: Unexpected keyword FROM at [1:8]' });
    const err = await rejection(wh.query({ name: 'test.syntax', sql: 'SELECT FROM' }));
    expect(err).toMatchObject({ code: 'QUERY_FAILED', retryable: false, attempts: 1, reasons: ['invalidQuery'] });
    expect(err.message).toMatch(/^test\.syntax: \[HTTP 400, invalidQuery\] Syntax error/);
    expect(fake.requestsOf('jobs.insert')).toHaveLength(1);
    expect(fake.requestsOf('jobs.get')).toHaveLength(0);
    expect(retries).toHaveLength(0);
  });

  it('give up after maxAttempts on a persistent backendError, saying it was transient', async () => {
    const backend = { code: 503, reason: 'backendError', message: 'Backend error. Job aborted.' };
    fake.failJobs(backend, backend, backend);
    const err = await rejection(wh.query({ name: 'test.flaky', sql: 'SELECT 1' }));
    expect(err).toMatchObject({ code: 'QUERY_FAILED', retryable: true, attempts: 3 });
    expect(err.message).toContain('(after 3 attempts)');
    expect(fake.requestsOf('jobs.insert')).toHaveLength(3);
  });

  it('re-send a job insert whose response was lost with the same job id, and attach to the job instead of running it twice', async () => {
    let runs = 0;
    fake.onQuery(() => {
      runs++;
      return { affectedRows: 2 };
    });
    fake.failRequests('jobs.insert', { code: 503, reason: 'backendError', message: 'Service unavailable', afterCreate: true });
    await wh.query({ name: 'test.dml', sql: 'UPDATE t SET x = 1 WHERE TRUE' });
    const inserts = fake.insertedJobs();
    expect(inserts).toHaveLength(2);
    expect(inserts[1]!.jobReference.jobId).toBe(inserts[0]!.jobReference.jobId);
    expect(runs).toBe(1);
  });
});

describe('transactions', () => {
  it('run as one script job with merged parameters and report each statement’s affected rows and rows, in order', async () => {
    const seen: FakeStatement[] = [];
    fake.onQuery((st) => {
      seen.push(st);
      if (st.sql.startsWith('MERGE')) return { affectedRows: 7 };
      if (st.sql.startsWith('UPDATE')) return { affectedRows: 3 };
      if (st.sql.includes('rows_accounted'))
        return { schema: [{ name: 'rows_accounted', type: 'INTEGER' }], rows: [{ rows_accounted: 7 }] };
      return { schema: [{ name: 'n', type: 'INTEGER' }], rows: [{ n: 2 }] };
    });
    const statements = [
      ...consolidationStatements('2025-01-15', 'batch_7', 'test1'),
      {
        name: 'count',
        sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.prediction_staging}} WHERE batch_id = @batch_id -- other batch',
        params: { batch_id: param.string('batch_6') },
        datasetPrefix: 'test1',
      },
    ];
    const { statements: results } = await wh.transaction('consolidate', statements);
    expect(results).toEqual([
      { affectedRows: 7, rows: [] },
      { affectedRows: 3, rows: [] },
      { affectedRows: 0, rows: [{ rows_accounted: 7 }] },
      { affectedRows: 0, rows: [{ n: 2 }] },
    ]);

    const [job] = fake.insertedJobs();
    const script = job!.configuration.query.query;
    expect(fake.insertedJobs()).toHaveLength(1);
    expect(script.startsWith('BEGIN TRANSACTION;\nMERGE INTO `nba-test-proj.test1_nba_predictions.player_prop_predictions` T')).toBe(true);
    expect(script.endsWith('\n;\nCOMMIT TRANSACTION;')).toBe(true);
    expect(script).not.toMatch(/DELETE FROM/);
    expect(script).toContain('WHERE batch_id = @batch_id_s4 -- other batch\n;');
    expect((job!.configuration.query.queryParameters ?? []).map((p) => [p.name, p.parameterValue])).toEqual([
      ['game_date', { value: '2025-01-15' }],
      ['batch_id', { value: 'batch_7' }],
      ['batch_id_s4', { value: 'batch_6' }],
    ]);
    expect(job!.configuration.labels).toMatchObject({ query_name: 'consolidate', batch_id: 'batch_7' });
    expect(seen.map((s) => s.sql.split(/\s/)[0])).toEqual(['MERGE', 'UPDATE', 'SELECT', 'SELECT']);
    expect(fake.requestsOf('jobs.list')[0]!.query).toMatchObject({ parentJobId: job!.jobReference.jobId });
  });

  it('fail whole, with nothing to read, when a statement fails; conflicting statement labels are refused before sending', async () => {
    fake.onQuery((st) =>
      st.sql.startsWith('UPDATE') ? { error: { code: 400, reason: 'invalidQuery', message: 'Unrecognized name: nope' } } : undefined,
    );
    const err = await rejection(
      wh.transaction('tx', [
        { name: 'a', sql: 'INSERT INTO t (x) VALUES (1)' },
        { name: 'b', sql: 'UPDATE t SET nope = 1 WHERE TRUE' },
      ]),
    );
    expect(err).toMatchObject({ code: 'QUERY_FAILED', reasons: ['invalidQuery'] });
    expect(fake.requestsOf('jobs.list')).toHaveLength(0);

    const labels = await rejection(
      wh.transaction('tx2', [
        { name: 'a', sql: 'SELECT 1', labels: { batch_id: 'b1' } },
        { name: 'b', sql: 'SELECT 2', labels: { batch_id: 'b2' } },
      ]),
    );
    expect(labels.code).toBe('INVALID_INPUT');
    expect(labels.message).toContain("label 'batch_id' is given two values");
    const twoInOne = await rejection(wh.transaction('tx3', [{ name: 'a', sql: 'SELECT 1; SELECT 2' }]));
    expect(twoInOne.message).toContain('statement a: holds more than one statement');
  });
});

describe('inserts (insertAll)', () => {
  it('stream rows with insertIds from idColumns, NUMERIC as rounded strings and UTC timestamps; a redelivery is deduplicated', async () => {
    const req = {
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p1'), stagingRow('p2', { current_points_line: null })],
      datasetPrefix: 'test1',
      idColumns: ['prediction_id'],
    };
    await wh.insert(req);
    await wh.insert(req);
    const calls = fake.requestsOf('tabledata.insertAll');
    expect(calls).toHaveLength(2);
    expect(calls[0]!.path).toBe(`/projects/${PROJECT}/datasets/test1_nba_predictions/tables/prediction_staging/insertAll`);
    const body = calls[0]!.body as {
      rows: Array<{ insertId: string; json: Record<string, unknown> }>;
      skipInvalidRows: boolean;
      ignoreUnknownValues: boolean;
    };
    expect(body).toMatchObject({ skipInvalidRows: false, ignoreUnknownValues: false });
    expect(body.rows.map((r) => r.insertId)).toEqual(['p1', 'p2']);
    expect(body.rows[0]!.json).toEqual({
      prediction_id: 'p1',
      system_id: 'catboost_v9',
      player_lookup: 'lebronjames',
      game_date: '2025-01-15',
      game_id: '0022400555',
      batch_id: 'b1',
      predicted_points: '27.3',
      confidence_score: '71.25',
      recommendation: 'OVER',
      current_points_line: '25.5',
      is_active: true,
      features_snapshot: '{"points_avg_last_5":27}',
      created_at: '2025-01-15T10:30:45.123456Z',
      default_feature_indices: [], // a repeated column is never NULL: absent → []
    });
    expect(body.rows[1]!.json).not.toHaveProperty('current_points_line');
    expect((calls[1]!.body as typeof body).rows.map((r) => r.insertId)).toEqual(['p1', 'p2']);
    expect(fake.tables.get(`${PROJECT}.test1_nba_predictions.prediction_staging`)).toHaveLength(2);
  });

  it('without idColumns, give every row its own random insertId', async () => {
    await wh.insert({ name: 'run.record', table: 'nba_predictions.prediction_staging', rows: [stagingRow('a'), stagingRow('a')] });
    const ids = (fake.requestsOf('tabledata.insertAll')[0]!.body as { rows: Array<{ insertId: string }> }).rows.map((r) => r.insertId);
    expect(new Set(ids).size).toBe(2);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('surface per-row rejections: which rows, which reasons, and that nothing of the request was written', async () => {
    fake.onInsertAll(() => [{ index: 1, errors: [{ reason: 'invalid', message: 'no such field: nope.' }] }]);
    const err = await rejection(
      wh.insert({
        name: 'staging.append',
        table: 'nba_predictions.prediction_staging',
        rows: [stagingRow('p1'), stagingRow('p2'), stagingRow('p3')],
        idColumns: ['prediction_id'],
      }),
    );
    expect(err.code).toBe('INSERT_REJECTED');
    expect(err.reasons).toEqual(expect.arrayContaining(['invalid', 'stopped']));
    expect(err.message).toContain(
      `insert into ${PROJECT}.nba_predictions.prediction_staging: 1 of 3 rows rejected — row 1 (insertId p2): invalid: no such field: nope.`,
    );
    expect(err.message).toContain('2 rows stopped (not written because of the rejected rows); 0 of 3 rows written');
    expect(fake.requestsOf('tabledata.insertAll')).toHaveLength(1);
    expect(fake.tables.get(`${PROJECT}.nba_predictions.prediction_staging`) ?? []).toHaveLength(0);
  });

  it('re-send only the rows that failed transiently, with their insertIds', async () => {
    let calls = 0;
    fake.onInsertAll(() => (calls++ === 0 ? [{ index: 0, errors: [{ reason: 'backendError', message: 'try again' }] }] : undefined));
    await wh.insert({
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p1'), stagingRow('p2')],
      idColumns: ['prediction_id'],
    });
    const sent = fake
      .requestsOf('tabledata.insertAll')
      .map((r) => (r.body as { rows: Array<{ insertId: string }> }).rows.map((x) => x.insertId));
    expect(sent).toEqual([['p1', 'p2'], ['p1']]);
    expect(fake.tables.get(`${PROJECT}.nba_predictions.prediction_staging`)?.map((r) => r.insertId)).toEqual(['p2', 'p1']);
  });

  it('reject bad rows before sending: unknown column, value too wide for NUMERIC(4,1), missing required value', async () => {
    const cases: Array<[Row, RegExp]> = [
      [stagingRow('x', { nope: 1 }), /row 0: unknown column 'nope'/],
      [stagingRow('x', { current_points_line: 1234.5 }), /row 0, column 'current_points_line': 1234.5 is out of range for NUMERIC\(4,1\)/],
      [stagingRow('x', { system_id: null }), /row 0, column 'system_id': is required \(NOT NULL\)/],
    ];
    for (const [row, message] of cases) {
      const err = await rejection(wh.insert({ name: 'staging.append', table: 'nba_predictions.prediction_staging', rows: [row] }));
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).toMatch(message);
    }
    expect(fake.requestsOf('tabledata.insertAll')).toHaveLength(0);
  });
});

describe('DDL', () => {
  it('renders a partitioned, clustered table with project, prefix, types, NOT NULL and options', () => {
    const ddl = renderCreateTable(oddsApiPlayerPointsProps, { projectId: PROJECT, location: 'US', datasetPrefix: 'test1' });
    expect(ddl.split('\n')[0]).toBe('CREATE TABLE IF NOT EXISTS `nba-test-proj.test1_nba_raw.odds_api_player_points_props` (');
    expect(ddl).toContain('  `game_date` DATE NOT NULL,\n');
    expect(ddl).toContain(
      "  `bookmaker` STRING NOT NULL OPTIONS(description = 'lower-case key: draftkings, fanduel, betmgm, pointsbet, caesars, …'),\n",
    );
    expect(ddl).toContain('  `points_line` FLOAT64,\n');
    expect(ddl).toContain('  `snapshot_timestamp` TIMESTAMP NOT NULL,\n');
    expect(ddl).toMatch(
      /\n\)\nPARTITION BY `game_date`\nCLUSTER BY `player_lookup`, `game_date`, `bookmaker`\nOPTIONS\(description = 'OddsAPI player points props, one row per book per snapshot\.'\)$/,
    );
  });

  it('renders staging partitioned by the day a row was written, expiring after 7 days, clustered by batch', () => {
    const ddl = renderCreateTable(predictionStaging, { projectId: PROJECT, location: 'US' });
    expect(ddl).toContain('`predicted_points` NUMERIC(5, 1) NOT NULL');
    expect(ddl).toContain('`features_snapshot` JSON');
    expect(ddl).toMatch(
      /\nPARTITION BY DATE\(`created_at`\)\nCLUSTER BY `batch_id`\nOPTIONS\(partition_expiration_days = 7, description = '.*'\)$/,
    );
    const schemas = renderBigQueryDdl(ALL_TABLES, { projectId: PROJECT, location: 'europe-west2', datasetPrefix: 'p1' }).filter((s) =>
      s.startsWith('CREATE SCHEMA'),
    );
    expect(schemas).toContain("CREATE SCHEMA IF NOT EXISTS `nba-test-proj.p1_nba_predictions` OPTIONS(location = 'europe-west2')");
    expect(schemas).toHaveLength(new Set(ALL_TABLES.map((t) => t.dataset)).size);
    expect(
      renderCreateTable(
        ALL_TABLES.find((t) => t.name === 'ml_feature_store_v2')!,
        { projectId: PROJECT, location: 'US' },
      ),
    ).toContain('`default_feature_indices` ARRAY<INT64>,');
  });

  it('ensureTables runs the DDL as one script, then adds only the columns an existing table lacks', async () => {
    fake.onQuery((st) => {
      if (!st.sql.includes('INFORMATION_SCHEMA')) return undefined;
      const older = gamePostponements.columns.filter((c) => c.name !== 'detected_at');
      return {
        schema: [
          { name: 'table_schema', type: 'STRING' },
          { name: 'table_name', type: 'STRING' },
          { name: 'column_name', type: 'STRING' },
        ],
        rows: older.map((c) => ({ table_schema: 'test1_nba_orchestration', table_name: 'game_postponements', column_name: c.name })),
      };
    });
    await wh.ensureTables([gamePostponements], 'test1');
    const [create, columns, alter] = fake.insertedJobs().map((j) => j.configuration.query.query);
    expect(create).toBe(
      renderBigQueryDdl([gamePostponements], { projectId: PROJECT, location: 'europe-west2', datasetPrefix: 'test1' }).join(';\n'),
    );
    expect(columns).toContain(
      'FROM `nba-test-proj.test1_nba_orchestration`.INFORMATION_SCHEMA.COLUMNS WHERE table_name IN UNNEST(@tables)',
    );
    expect(alter).toBe(
      'ALTER TABLE `nba-test-proj.test1_nba_orchestration.game_postponements`\n  ADD COLUMN IF NOT EXISTS `detected_at` TIMESTAMP',
    );
  });
});

describe('lifecycle', () => {
  it('refuses work after close', async () => {
    await wh.close();
    const err = await rejection(wh.query({ name: 'late', sql: 'SELECT 1' }));
    expect(err.code).toBe('CLOSED');
  });
});

describe('warnings on a successful job', () => {
  it('are read from getQueryResults errors and from a transaction’s child jobs, and the job still succeeds', async () => {
    fake.warnJobs((sql) => sql.includes('prediction_staging'), {
      reason: 'streamingBuffer',
      message: 'buffered data may be temporarily unavailable',
    });
    fake.onQuery(() => ({ schema: [{ name: 'n', type: 'INTEGER' }], rows: [{ n: 3 }] }));
    const staged = await wh.queryWithWarnings({ name: 'count', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.prediction_staging}}' });
    expect(staged).toEqual({ rows: [{ n: 3 }], warnings: ['[streamingBuffer] buffered data may be temporarily unavailable'] });
    expect(await wh.queryWithWarnings({ name: 'other', sql: 'SELECT COUNT(*) AS n FROM {{nba_raw.nbac_schedule}}' })).toEqual({
      rows: [{ n: 3 }],
      warnings: [],
    });

    fake.onQuery((st) =>
      st.sql.startsWith('MERGE')
        ? { affectedRows: 2 }
        : st.sql.startsWith('UPDATE')
          ? { affectedRows: 0 }
          : { schema: [{ name: 'rows_accounted', type: 'INTEGER' }], rows: [{ rows_accounted: 2 }] },
    );
    const tx = await wh.transaction('consolidate', consolidationStatements('2025-01-15', 'b1', ''));
    expect(tx.statements.map((s) => s.affectedRows)).toEqual([2, 0, 0]);
    expect(tx.warnings).toEqual(['[streamingBuffer] buffered data may be temporarily unavailable']);
    // The MERGE and UPDATE children read staging and carry the warning; the count (and BEGIN/COMMIT) do not.
    expect(
      fake.warned.filter((w) => w.jobId.startsWith('script_job_')).map((w) => w.jobId.replace(/^script_job_.*_(\d+)$/, 'statement $1')),
    ).toEqual(['statement 1', 'statement 2']);
  });
});

describe('engine: jobs run on DuckDB', () => {
  let duck: DuckDbWarehouse;
  let now: number;
  const STAGING = `${PROJECT}.nba_predictions.prediction_staging`;
  const PREDICTIONS = `${PROJECT}.nba_predictions.player_prop_predictions`;

  beforeEach(async () => {
    duck = await DuckDbWarehouse.open({ path: ':memory:' });
    await duck.ensureTables([predictionStaging, playerPropPredictions]);
    now = Date.parse('2025-01-15T12:00:00Z');
    fake.attachEngine(duck, () => now);
  });

  afterEach(async () => {
    await duck.close();
  });

  const stagedCount = (batchId = 'b1') =>
    wh.queryWithWarnings({
      name: 'consolidate.staged_count',
      sql: 'SELECT COUNT(DISTINCT prediction_id) AS n FROM {{nba_predictions.prediction_staging}} WHERE batch_id = @batch_id',
      params: { batch_id: param.string(batchId) },
    });

  it('stores insertAll rows in the DuckDB table once per insertId, and answers queries with typed rows', async () => {
    const req = {
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p1'), stagingRow('p2', { current_points_line: null, is_active: false })],
      idColumns: ['prediction_id'],
    };
    await wh.insert(req);
    await wh.insert(req); // a redelivered write: same insertIds
    expect(await duck.query({ name: 'n', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.prediction_staging}}' })).toEqual([{ n: 2 }]);
    const rows = await wh.query({
      name: 'read',
      sql: 'SELECT prediction_id, game_date, predicted_points, current_points_line, is_active, created_at FROM {{nba_predictions.prediction_staging}} WHERE batch_id = @b ORDER BY prediction_id',
      params: { b: param.string('b1') },
    });
    expect(rows).toEqual([
      {
        prediction_id: 'p1',
        game_date: '2025-01-15',
        predicted_points: 27.3,
        current_points_line: 25.5,
        is_active: true,
        created_at: '2025-01-15T10:30:45.123456Z',
      },
      {
        prediction_id: 'p2',
        game_date: '2025-01-15',
        predicted_points: 27.3,
        current_points_line: null,
        is_active: false,
        created_at: '2025-01-15T10:30:45.123456Z',
      },
    ]);
    expect(await stagedCount()).toEqual({ rows: [{ n: 2 }], warnings: [] });
  });

  it('runs the consolidation transaction as one script: the MERGE writes the rows, each statement reports its count', async () => {
    await wh.insert({
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p1'), stagingRow('p2', { player_lookup: 'stephcurry' })],
      idColumns: ['prediction_id'],
    });
    const tx = await wh.transaction('consolidate', consolidationStatements('2025-01-15', 'b1', ''));
    expect(tx).toEqual({
      statements: [
        { affectedRows: 2, rows: [] },
        { affectedRows: 0, rows: [] },
        { affectedRows: 0, rows: [{ rows_accounted: 2 }] },
      ],
      warnings: [],
    });
    expect(
      await duck.query({
        name: 'merged',
        sql: 'SELECT prediction_id, player_lookup, is_active FROM {{nba_predictions.player_prop_predictions}} ORDER BY prediction_id',
      }),
    ).toEqual([
      { prediction_id: 'p1', player_lookup: 'lebronjames', is_active: true },
      { prediction_id: 'p2', player_lookup: 'stephcurry', is_active: true },
    ]);
    expect(fake.transactions).toEqual([
      { jobId: fake.insertedJobs()[0]!.jobReference.jobId, tables: [PREDICTIONS], outcome: 'committed', began: 1, ended: 2 },
    ]);
  });

  it('a failing statement fails the script and rolls the transaction back', async () => {
    await wh.insert({
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p1')],
      idColumns: ['prediction_id'],
    });
    const [merge] = consolidationStatements('2025-01-15', 'b1', '');
    const err = await rejection(
      wh.transaction('tx', [merge!, { name: 'bad', sql: 'UPDATE {{nba_predictions.player_prop_predictions}} SET nope = 1 WHERE TRUE' }]),
    );
    expect(err).toMatchObject({ code: 'QUERY_FAILED', reasons: ['invalidQuery'] });
    expect(err.message).toContain('nope');
    expect(await duck.query({ name: 'n', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.player_prop_predictions}}' })).toEqual([
      { n: 0 },
    ]);
    expect(fake.transactions.map((t) => t.outcome)).toEqual(['failed']);
  });

  it('streaming buffer: rows held back for a chosen time are missing from queries, which succeed with a warning', async () => {
    fake.hideStreamedRows({ table: 'nba_predictions.prediction_staging', forMs: 90_000 });
    await wh.insert({
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p1'), stagingRow('p2')],
      idColumns: ['prediction_id'],
    });
    const warning = `[streamingBuffer] Table ${PROJECT}:nba_predictions.prediction_staging: buffered data may be temporarily unavailable to this query (streaming buffer)`;
    expect(await stagedCount()).toEqual({ rows: [{ n: 0 }], warnings: [warning] });
    now += 89_999;
    expect(await stagedCount()).toEqual({ rows: [{ n: 0 }], warnings: [warning] });
    now += 1;
    expect(await stagedCount()).toEqual({ rows: [{ n: 2 }], warnings: [] });
    expect(fake.tables.get(STAGING)).toHaveLength(2);
  });

  it('streaming buffer: chosen rows held back until told; a MERGE meanwhile merges only what is visible and says so', async () => {
    const hold = fake.hideStreamedRows({ where: (row) => row.player_lookup === 'stephcurry' });
    await wh.insert({
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p1'), stagingRow('p2', { player_lookup: 'stephcurry' })],
      idColumns: ['prediction_id'],
    });
    expect(hold.hiddenRows).toBe(1);
    expect((await stagedCount()).rows).toEqual([{ n: 1 }]);
    const tx = await wh.transaction('consolidate', consolidationStatements('2025-01-15', 'b1', ''));
    expect(tx.statements[0]!.affectedRows).toBe(1);
    expect(tx.warnings).toEqual([expect.stringContaining('buffered data may be temporarily unavailable')]);
    await hold.reveal();
    expect(hold.hiddenRows).toBe(0);
    expect(await stagedCount()).toEqual({ rows: [{ n: 2 }], warnings: [] });
    await wh.insert({
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p3', { player_lookup: 'stephcurry' })],
      idColumns: ['prediction_id'],
    });
    expect((await stagedCount()).rows).toEqual([{ n: 3 }]); // the hold ended with reveal()
  });

  it('cancels a transaction that mutates a table a running transaction mutates, with BigQuery’s error; it succeeds once the other ended', async () => {
    await wh.insert({
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p1'), stagingRow('p2', { batch_id: 'b2', game_date: '2025-01-16' })],
      idColumns: ['prediction_id'],
    });
    const once = open({ retry: { maxAttempts: 1 } });
    const hold = fake.holdTransactions();
    const first = wh.transaction('consolidate', consolidationStatements('2025-01-15', 'b1', ''));
    await until('the first transaction waits at its COMMIT', () => hold.waiting.length === 1);
    const err = await rejection(once.transaction('consolidate', consolidationStatements('2025-01-16', 'b2', '')));
    expect(err).toMatchObject({ code: 'TRANSACTION_CONFLICT', retryable: true, reasons: ['invalidQuery'] });
    expect(err.message).toContain(
      `Transaction is aborted due to concurrent update against table ${PROJECT}:nba_predictions.player_prop_predictions`,
    );
    const [a, b] = fake.insertedJobs().map((j) => j.jobReference.jobId);
    expect(fake.conflicts).toEqual([{ jobId: b, table: PREDICTIONS, heldBy: a }]);
    // A transaction that only reads the table, or a query outside a transaction, is not cancelled.
    expect(await once.query({ name: 'read', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.player_prop_predictions}}' })).toEqual([
      { n: 0 },
    ]);
    hold.release();
    expect((await first).statements[0]!.affectedRows).toBe(1);
    expect((await once.transaction('consolidate', consolidationStatements('2025-01-16', 'b2', ''))).statements[0]!.affectedRows).toBe(1);
    expect(fake.transactions.map((t) => t.outcome)).toEqual(['committed', 'cancelled_by_conflict', 'committed']);
    await once.close();
  });

  it('a transaction can be made to take a chosen time: of two started together, the one that comes second is cancelled', async () => {
    await wh.insert({
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p1'), stagingRow('p2', { batch_id: 'b2', game_date: '2025-01-16' })],
      idColumns: ['prediction_id'],
    });
    fake.transactionDelayMs = 1_000;
    const once = open({ retry: { maxAttempts: 1 } });
    const results = await Promise.allSettled([
      once.transaction('consolidate', consolidationStatements('2025-01-15', 'b1', '')),
      once.transaction('consolidate', consolidationStatements('2025-01-16', 'b2', '')),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(fake.transactions.map((x) => x.outcome).sort()).toEqual(['cancelled_by_conflict', 'committed']);
    expect(fake.conflicts).toHaveLength(1);
    await once.close();
  });

  it('the adapter re-runs a cancelled transaction (a new job) until the other has committed', async () => {
    await wh.insert({
      name: 'staging.append',
      table: 'nba_predictions.prediction_staging',
      rows: [stagingRow('p1'), stagingRow('p2', { batch_id: 'b2', game_date: '2025-01-16' })],
      idColumns: ['prediction_id'],
    });
    const patient = open({ retry: { maxAttempts: 20, initialDelayMs: 5, maxDelayMs: 20 } });
    const hold = fake.holdTransactions();
    const first = wh.transaction('consolidate', consolidationStatements('2025-01-15', 'b1', ''));
    await until('the first transaction waits at its COMMIT', () => hold.waiting.length === 1);
    const second = patient.transaction('consolidate', consolidationStatements('2025-01-16', 'b2', ''));
    await until('the second transaction was cancelled once', () => fake.conflicts.length >= 1);
    hold.release();
    await first;
    expect((await second).statements[0]!.affectedRows).toBe(1);
    expect(await duck.query({ name: 'n', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.player_prop_predictions}}' })).toEqual([
      { n: 2 },
    ]);
    expect(fake.transactions.filter((t) => t.outcome === 'committed')).toHaveLength(2);
    await patient.close();
  });
});
