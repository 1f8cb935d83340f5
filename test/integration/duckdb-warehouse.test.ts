import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderDuckDbSchema, renderDuckDbTable } from '../../shared/adapters/duckdb/duckdb-ddl.js';
import { DuckDbWarehouse, WarehouseError } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { instrumentWarehouse } from '../../shared/adapters/instrumented-warehouse.js';
import { ALL_TABLES, PREDICTION_COLUMN_NAMES, mlFeatureStoreV2, type TableDef } from '../../shared/contracts/tables.js';
import { featureColumn } from '../../shared/contracts/feature-contract.js';
import { param, type Row } from '../../shared/ports/warehouse.js';

const F0 = featureColumn(0);

let wh: DuckDbWarehouse;

beforeEach(async () => {
  wh = await DuckDbWarehouse.open({ path: ':memory:' });
  await wh.ensureTables(ALL_TABLES);
});

afterEach(async () => {
  await wh.close();
});

const CREATED = '2025-01-15T17:30:00.000Z';

function predictionRow(id: string, extra: Row = {}): Row {
  return {
    prediction_id: id,
    system_id: 'catboost_v9',
    player_lookup: 'lebronjames',
    game_date: '2025-01-15',
    game_id: '0022400555',
    batch_id: 'b1',
    predicted_points: 27.3,
    confidence_score: 71.25,
    recommendation: 'OVER',
    current_points_line: 25.5,
    is_active: true,
    created_at: CREATED,
    ...extra,
  };
}

async function expectError(p: Promise<unknown>): Promise<WarehouseError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WarehouseError);
  return err as WarehouseError;
}

describe('DuckDB DDL', () => {
  it('creates every table in ALL_TABLES with its columns', async () => {
    const rows = await wh.query({
      name: 'test.columns',
      sql: `SELECT table_schema || '.' || table_name AS id, COUNT(*) AS n
            FROM information_schema.columns GROUP BY table_schema, table_name`,
    });
    const counts = new Map(rows.map((r) => [r.id, r.n]));
    for (const t of ALL_TABLES) expect(counts.get(`${t.dataset}.${t.name}`)).toBe(t.columns.length);
  });

  it('renders types, NOT NULL and prefixes', () => {
    const table: TableDef = {
      dataset: 'ds',
      name: 't',
      description: '',
      columns: [
        { name: 'a', type: 'STRING', required: true },
        { name: 'b', type: 'NUMERIC', numeric: [4, 1] },
        { name: 'c', type: 'NUMERIC' },
        { name: 'd', type: 'INT64', repeated: true },
        { name: 'e', type: 'JSON' },
        { name: 'f', type: 'TIMESTAMP' },
        { name: 'g', type: 'BOOL' },
        { name: 'h', type: 'FLOAT64' },
      ],
    };
    const schema = renderDuckDbSchema(table.dataset, 'test1');
    const create = renderDuckDbTable(table, 'test1');
    expect(schema).toBe('CREATE SCHEMA IF NOT EXISTS "test1_ds"');
    expect(create).toContain('CREATE TABLE IF NOT EXISTS "test1_ds"."t"');
    expect(create).toContain('"a" VARCHAR NOT NULL');
    expect(create).toContain('"b" DECIMAL(4,1),');
    expect(create).toContain('"c" DECIMAL(38,9)');
    expect(create).toContain('"d" BIGINT[]');
    expect(create).toContain('"e" VARCHAR');
    expect(create).toContain('"f" TIMESTAMP');
    expect(create).toContain('"g" BOOLEAN');
    expect(create).toContain('"h" DOUBLE');
  });
});

describe('DuckDbWarehouse round trips', () => {
  it('returns every column type as a plain value', async () => {
    await wh.insert({
      name: 'test.insert_registry',
      table: 'nba_predictions.model_registry',
      rows: [
        {
          model_id: 'catboost_v9',
          model_version: '9.1',
          model_type: 'catboost',
          gcs_path: 'file://models/v9.onnx',
          feature_count: 33,
          features_json: '["points_avg_last_5","points_avg_last_10"]',
          training_start_date: '2021-11-01',
          training_end_date: '2025-01-10',
          training_samples: 120_000,
          evaluation_mae: 4.82,
          status: 'active',
          is_production: true,
          enabled: null,
          created_at: '2025-01-15T12:30:45.123456+02:00',
        },
      ],
    });
    const [row] = await wh.query({ name: 'test.read_registry', sql: 'SELECT * FROM {{nba_predictions.model_registry}}' });
    expect(row).toMatchObject({
      model_id: 'catboost_v9',
      feature_count: 33,
      features_json: '["points_avg_last_5","points_avg_last_10"]',
      training_start_date: '2021-11-01',
      training_end_date: '2025-01-10',
      training_samples: 120000,
      evaluation_mae: 4.82,
      is_production: true,
      enabled: null,
      notes: null, // missing column → NULL
      created_at: '2025-01-15T10:30:45.123456Z',
    });

    await wh.insert({ name: 'test.insert_predictions', table: 'nba_predictions.prediction_staging', rows: [predictionRow('p1')] });
    const [pred] = await wh.query({
      name: 'test.read_predictions',
      sql: 'SELECT current_points_line, predicted_points, confidence_score, line_margin, created_at FROM {{nba_predictions.prediction_staging}}',
    });
    expect(pred).toEqual({
      current_points_line: 25.5,
      predicted_points: 27.3,
      confidence_score: 71.25,
      line_margin: null,
      created_at: CREATED,
    });
    expect(typeof pred?.current_points_line).toBe('number');
  });

  it('round-trips arrays, NULL arrays and NULL scalars', async () => {
    const base = { game_date: '2025-01-15', created_at: CREATED };
    await wh.insert({
      name: 'test.insert_features',
      table: 'nba_predictions.ml_feature_store_v2',
      rows: [
        { ...base, player_lookup: 'a', default_feature_indices: [25, 26, 27], [F0]: 21.4, feature_quality_score: 87.55 },
        { ...base, player_lookup: 'b', default_feature_indices: null, [F0]: null },
        { ...base, player_lookup: 'c' },
      ],
    });
    const rows = await wh.query({
      name: 'test.read_features',
      sql: `SELECT player_lookup, default_feature_indices, ${F0} AS f0, feature_quality_score, game_date
            FROM {{nba_predictions.ml_feature_store_v2}} ORDER BY player_lookup`,
    });
    expect(rows).toEqual([
      { player_lookup: 'a', default_feature_indices: [25, 26, 27], f0: 21.4, feature_quality_score: 87.55, game_date: '2025-01-15' },
      { player_lookup: 'b', default_feature_indices: [], f0: null, feature_quality_score: null, game_date: '2025-01-15' },
      { player_lookup: 'c', default_feature_indices: [], f0: null, feature_quality_score: null, game_date: '2025-01-15' },
    ]);
  });

  it('binds typed parameters, including nulls, dates, timestamps and arrays', async () => {
    const [row] = await wh.query({
      name: 'test.params',
      sql: `SELECT @s AS s, @i AS i, @f AS f, @b AS b, @d AS d, @ts AS ts, @n AS n, @nothing AS nothing, @ints AS ints,
                   CAST(@i AS STRING) AS i_text, SAFE_CAST('x' AS INT64) AS bad, @num AS num`,
      params: {
        s: param.string('x'),
        i: param.int(42),
        f: param.float(1.5),
        b: param.bool(false),
        d: param.date('2025-02-28'),
        ts: param.timestamp('2025-02-28T23:59:59Z'),
        n: param.int(null),
        nothing: param.date(null),
        ints: param.ints([1, 2, 3]),
        num: { type: 'NUMERIC', value: 25.5 },
      },
    });
    expect(row).toEqual({
      s: 'x',
      i: 42,
      f: 1.5,
      b: false,
      d: '2025-02-28',
      ts: '2025-02-28T23:59:59.000Z',
      n: null,
      nothing: null,
      ints: [1, 2, 3],
      i_text: '42',
      bad: null,
      num: 25.5,
    });
  });

  it('filters with IN UNNEST(@players), including an empty list', async () => {
    await wh.insert({
      name: 'test.insert_props',
      table: 'nba_raw.odds_api_player_points_props',
      rows: ['a', 'b', 'c'].map((p, i) => ({
        game_date: '2025-01-15',
        player_lookup: p,
        bookmaker: 'draftkings',
        points_line: 20.5 + i,
        snapshot_timestamp: CREATED,
      })),
    });
    const sql = 'SELECT player_lookup FROM {{nba_raw.odds_api_player_points_props}} WHERE player_lookup IN UNNEST(@players) ORDER BY 1';
    const rows = await wh.query({ name: 'test.unnest', sql, params: { players: param.strings(['a', 'c', 'zz']) } });
    expect(rows.map((r) => r.player_lookup)).toEqual(['a', 'c']);
    expect(await wh.query({ name: 'test.unnest_empty', sql, params: { players: param.strings([]) } })).toEqual([]);
  });

  it('supports QUALIFY ROW_NUMBER() OVER', async () => {
    await wh.insert({
      name: 'test.insert_props',
      table: 'nba_raw.odds_api_player_points_props',
      rows: [
        {
          game_date: '2025-01-15',
          player_lookup: 'a',
          bookmaker: 'fanduel',
          points_line: 20.5,
          snapshot_timestamp: '2025-01-15T10:00:00Z',
        },
        {
          game_date: '2025-01-15',
          player_lookup: 'a',
          bookmaker: 'fanduel',
          points_line: 21.5,
          snapshot_timestamp: '2025-01-15T12:00:00Z',
        },
        { game_date: '2025-01-15', player_lookup: 'b', bookmaker: 'fanduel', points_line: 9.5, snapshot_timestamp: '2025-01-15T11:00:00Z' },
      ],
    });
    const rows = await wh.query({
      name: 'test.qualify',
      sql: `SELECT player_lookup, points_line, snapshot_timestamp FROM {{nba_raw.odds_api_player_points_props}}
            WHERE game_date = @d
            QUALIFY ROW_NUMBER() OVER (PARTITION BY player_lookup ORDER BY snapshot_timestamp DESC) = 1
            ORDER BY player_lookup`,
      params: { d: param.date('2025-01-15') },
    });
    expect(rows).toEqual([
      { player_lookup: 'a', points_line: 21.5, snapshot_timestamp: '2025-01-15T12:00:00.000Z' },
      { player_lookup: 'b', points_line: 9.5, snapshot_timestamp: '2025-01-15T11:00:00.000Z' },
    ]);
  });

  it('leaves @x and {{ inside string literals alone', async () => {
    const [row] = await wh.query({
      name: 'test.literals',
      sql: "SELECT '@x' AS a, '{{nba_raw.nbac_schedule}}' AS b, 'it\\'s' AS c, LOWER(@y) AS d",
      params: { y: param.string('ABC') },
    });
    expect(row).toEqual({ a: '@x', b: '{{nba_raw.nbac_schedule}}', c: "it's", d: 'abc' });
  });
});

describe('DuckDbWarehouse transactions', () => {
  const MERGE_SQL = `MERGE INTO {{nba_predictions.player_prop_predictions}} T
USING (
  SELECT * FROM {{nba_predictions.prediction_staging}} WHERE batch_id = @batch
  QUALIFY ROW_NUMBER() OVER (PARTITION BY prediction_id ORDER BY created_at DESC) = 1
) S
ON T.prediction_id = S.prediction_id
WHEN MATCHED THEN UPDATE SET predicted_points = S.predicted_points, updated_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (${PREDICTION_COLUMN_NAMES.join(', ')})
  VALUES (${PREDICTION_COLUMN_NAMES.map((c) => `S.${c}`).join(', ')})`;

  it('MERGE … USING (… QUALIFY …) updates and inserts and reports affected rows', async () => {
    await wh.insert({
      name: 'test.seed_final',
      table: 'nba_predictions.player_prop_predictions',
      rows: [predictionRow('p1', { predicted_points: 10 })],
    });
    await wh.insert({
      name: 'test.seed_staging',
      table: 'nba_predictions.prediction_staging',
      rows: [
        predictionRow('p1', { predicted_points: 11, created_at: '2025-01-15T17:00:00Z' }),
        predictionRow('p1', { predicted_points: 12, created_at: '2025-01-15T17:05:00Z' }),
        predictionRow('p2'),
        predictionRow('p3'),
        predictionRow('p4', { batch_id: 'other' }),
      ],
    });
    const { statements: results } = await wh.transaction('test.consolidate', [
      { name: 'test.merge', sql: MERGE_SQL, params: { batch: param.string('b1') } },
      {
        name: 'test.clean',
        sql: 'DELETE FROM {{nba_predictions.prediction_staging}} WHERE batch_id = @batch',
        params: { batch: param.string('b1') },
      },
      { name: 'test.count', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.player_prop_predictions}}' },
    ]);
    expect(results.map((r) => r.affectedRows)).toEqual([3, 4, 0]);
    expect(results[2]?.rows).toEqual([{ n: 3 }]);
    const rows = await wh.query({
      name: 'test.read_final',
      sql: 'SELECT prediction_id, predicted_points, updated_at IS NOT NULL AS updated FROM {{nba_predictions.player_prop_predictions}} ORDER BY 1',
    });
    expect(rows).toEqual([
      { prediction_id: 'p1', predicted_points: 12, updated: true },
      { prediction_id: 'p2', predicted_points: 27.3, updated: false },
      { prediction_id: 'p3', predicted_points: 27.3, updated: false },
    ]);
  });

  it('rolls back earlier statements when a later one fails, and names the step', async () => {
    await wh.insert({ name: 'test.seed', table: 'nba_predictions.prediction_staging', rows: [predictionRow('p1'), predictionRow('p2')] });
    const err = await expectError(
      wh.transaction('test.tx', [
        {
          name: 'test.delete',
          sql: 'DELETE FROM {{nba_predictions.prediction_staging}} WHERE prediction_id = @id',
          params: { id: param.string('p1') },
        },
        { name: 'test.broken', sql: 'SELECT no_such_column FROM {{nba_predictions.prediction_staging}}' },
      ]),
    );
    expect(err.message).toMatch(/^test\.tx: statement test\.broken:/);
    expect(err.code).toBe('QUERY_FAILED');
    const rows = await wh.query({ name: 'test.after', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.prediction_staging}}' });
    expect(rows).toEqual([{ n: 2 }]);
  });
});

describe('DuckDbWarehouse errors', () => {
  it('names the query in SQL errors and in missing parameters', async () => {
    const err = await expectError(wh.query({ name: 'lines.odds_api', sql: 'SELECT * FROM {{nba_raw.no_such_table}}' }));
    expect(err.message).toMatch(/^lines\.odds_api: /);
    const missing = await expectError(wh.query({ name: 'lines.params', sql: 'SELECT @a AS a' }));
    expect(missing.message).toMatch(/^lines\.params: parameter @a has no value/);
  });

  it('rejects unknown and invalid columns on insert, naming the column', async () => {
    const unknown = await expectError(
      wh.insert({
        name: 'test.bad_insert',
        table: 'nba_raw.nbac_schedule',
        rows: [{ game_id: 'g', game_date: '2025-01-01', game_status: 1, colour: 'red' }],
      }),
    );
    expect(unknown.message).toMatch(/^test\.bad_insert: .*unknown column 'colour'/);
    const required = await expectError(
      wh.insert({ name: 'test.required', table: 'nba_raw.nbac_schedule', rows: [{ game_id: 'g', game_date: '2025-01-01' }] }),
    );
    expect(required.message).toMatch(/column 'game_status': is required/);
    const badDate = await expectError(
      wh.insert({
        name: 'test.bad_date',
        table: 'nba_raw.nbac_schedule',
        rows: [{ game_id: 'g', game_date: '01/02/2025', game_status: 1 }],
      }),
    );
    expect(badDate.message).toMatch(/column 'game_date'.*not a DATE/);
    const tooWide = await expectError(
      wh.insert({
        name: 'test.too_wide',
        table: 'nba_predictions.prediction_staging',
        rows: [predictionRow('x', { current_points_line: 1234.5 })],
      }),
    );
    expect(tooWide.message).toMatch(/column 'current_points_line'.*out of range for NUMERIC\(4,1\)/);
  });

  it('refuses integers beyond Number.MAX_SAFE_INTEGER', async () => {
    const err = await expectError(wh.query({ name: 'test.big', sql: 'SELECT CAST(9007199254740993 AS INT64) AS x' }));
    expect(err.message).toMatch(/^test\.big: .*MAX_SAFE_INTEGER/);
  });
});

describe('prefix isolation and the query log', () => {
  it('a prefixed query reads the prefixed dataset only, and the log shows only prefixed tables', async () => {
    await wh.ensureTables(ALL_TABLES, 'test1');
    const { warehouse, log } = instrumentWarehouse(wh);
    const row = { game_id: 'g1', game_date: '2025-01-15', game_status: 1 };
    await warehouse.insert({ name: 'test.seed_unprefixed', table: 'nba_raw.nbac_schedule', rows: [row, { ...row, game_id: 'g2' }] });
    log.length = 0;
    await warehouse.insert({ name: 'test.seed', table: 'nba_raw.nbac_schedule', rows: [row], datasetPrefix: 'test1' });
    const rows = await warehouse.query({ name: 'test.read', sql: 'SELECT game_id FROM {{nba_raw.nbac_schedule}}', datasetPrefix: 'test1' });
    expect(rows).toEqual([{ game_id: 'g1' }]);
    await warehouse.transaction('test.tx', [
      {
        name: 'test.tx_delete',
        sql: 'DELETE FROM {{nba_raw.nbac_schedule}} WHERE game_id IN (SELECT game_id FROM {{nba_orchestration.game_postponements}})',
        datasetPrefix: 'test1',
      },
    ]);
    expect(log.map((e) => [e.name, e.kind])).toEqual([
      ['test.seed', 'insert'],
      ['test.read', 'query'],
      ['test.tx_delete', 'transaction'],
    ]);
    expect(log.flatMap((e) => e.tables)).toEqual([
      'test1_nba_raw.nbac_schedule',
      'test1_nba_raw.nbac_schedule',
      'test1_nba_raw.nbac_schedule',
      'test1_nba_orchestration.game_postponements',
    ]);
    expect(log.every((e) => e.tables.every((t) => t.startsWith('test1_')) && e.ms >= 0)).toBe(true);
    // The unprefixed table was never touched.
    expect(await wh.query({ name: 'test.unprefixed', sql: 'SELECT COUNT(*) AS n FROM {{nba_raw.nbac_schedule}}' })).toEqual([{ n: 2 }]);

    await wh.dropPrefix('test1');
    const err = await expectError(
      wh.query({ name: 'test.dropped', sql: 'SELECT 1 FROM {{nba_raw.nbac_schedule}}', datasetPrefix: 'test1' }),
    );
    expect(err.message).toMatch(/^test\.dropped: /);
  });
});

describe('concurrency', () => {
  it('completes 20 concurrent inserts and queries without errors', async () => {
    const featureRow = (p: string): Row => ({
      player_lookup: p,
      game_date: '2025-01-15',
      created_at: CREATED,
      [F0]: 1,
      default_feature_indices: [1],
    });
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      work.push(
        wh.insert({
          name: `test.concurrent_insert_${i}`,
          table: mlFeatureStoreV2.dataset + '.' + mlFeatureStoreV2.name,
          rows: Array.from({ length: 50 }, (_, j) => featureRow(`p${i}_${j}`)),
        }),
      );
      work.push(wh.query({ name: `test.concurrent_query_${i}`, sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.ml_feature_store_v2}}' }));
      work.push(
        wh.transaction(`test.concurrent_tx_${i}`, [
          {
            name: 'stage',
            sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.prediction_staging}} WHERE batch_id = @b',
            params: { b: param.string(`b${i}`) },
          },
        ]),
      );
    }
    await Promise.all(work);
    expect(await wh.query({ name: 'test.total', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.ml_feature_store_v2}}' })).toEqual([
      { n: 1000 },
    ]);
  });
});

describe('write-write conflicts', () => {
  it('surface as TRANSACTION_CONFLICT, and the winners all took effect', async () => {
    await wh.insert({
      name: 'test.seed',
      table: 'nba_raw.nbac_schedule',
      rows: Array.from({ length: 100 }, (_, i) => ({ game_id: `g${i}`, game_date: '2025-01-01', game_status: 1 })),
    });
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        wh.transaction(`test.bump_${i}`, [
          { name: 'bump', sql: 'UPDATE {{nba_raw.nbac_schedule}} SET game_status = game_status + 1' },
          { name: 'busy', sql: 'SELECT COUNT(*) AS n FROM range(200000)' },
        ]),
      ),
    );
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as WarehouseError] : []));
    for (const f of failures) {
      expect(f.code).toBe('TRANSACTION_CONFLICT');
      expect(f.message).toMatch(/^test\.bump_\d+: /);
    }
    const wins = settled.length - failures.length;
    expect(wins).toBeGreaterThan(0);
    const rows = await wh.query({ name: 'test.read', sql: 'SELECT DISTINCT game_status FROM {{nba_raw.nbac_schedule}}' });
    expect(rows).toEqual([{ game_status: 1 + wins }]);
  });
});

describe('schema migration', () => {
  it('ensureTables adds columns an older table lacks, keeping its rows', async () => {
    const { DuckDbWarehouse: Wh } = await import('../../shared/adapters/duckdb/duckdb-warehouse.js');
    const { gamePostponements } = await import('../../shared/contracts/tables.js');
    const wh = await Wh.open({ path: ':memory:' });
    const older = {
      ...gamePostponements,
      columns: gamePostponements.columns.filter((c) => c.name !== 'reason' && c.name !== 'detected_at'),
    };
    await wh.ensureTables([older]);
    await wh.query({
      name: 'old',
      sql: "INSERT INTO {{nba_orchestration.game_postponements}} (game_id, original_date, status) VALUES ('g1', DATE '2026-01-01', 'detected')",
    });
    const row = {
      game_id: 'g2',
      original_date: '2026-01-02',
      new_date: '2026-01-09',
      reason: 'weather',
      status: 'confirmed',
      detection_details: '{}',
      detected_at: '2026-01-02T10:00:00Z',
    };
    await expect(wh.insert({ name: 'new', table: 'nba_orchestration.game_postponements', rows: [row] })).rejects.toThrow(
      /missing: reason, detected_at.*run ensureTables to migrate/,
    );
    await wh.ensureTables([gamePostponements]);
    // The added columns sit physically at the end; values must still land in their own columns.
    await wh.insert({ name: 'new', table: 'nba_orchestration.game_postponements', rows: [row] });
    const rows = await wh.query({
      name: 'read',
      sql: 'SELECT game_id, new_date, reason, status, detected_at FROM {{nba_orchestration.game_postponements}} ORDER BY game_id',
    });
    expect(rows).toEqual([
      { game_id: 'g1', new_date: null, reason: null, status: 'detected', detected_at: null },
      { game_id: 'g2', new_date: '2026-01-09', reason: 'weather', status: 'confirmed', detected_at: '2026-01-02T10:00:00.000Z' },
    ]);
    await wh.close();
  });
});

describe('partition expiry (emulated)', () => {
  it('ensureTables deletes staging rows whose partition day ended more than partitionExpirationDays ago, and keeps the rest', async () => {
    const day = 86_400_000;
    const ago = (days: number): string => new Date(Date.now() - days * day).toISOString();
    await wh.insert({
      name: 'test.seed',
      table: 'nba_predictions.prediction_staging',
      rows: [
        predictionRow('old', { created_at: ago(10) }),
        predictionRow('edge', { created_at: `${ago(8).slice(0, 10)}T23:59:59.000Z` }),
        predictionRow('recent', { created_at: ago(6) }),
        // An old game date written today (a backfill) is kept: staging expires by when a row was written.
        predictionRow('backfill', { game_date: '2021-01-05', created_at: ago(0) }),
      ],
    });
    await wh.ensureTables(ALL_TABLES);
    const rows = await wh.query({
      name: 'test.left',
      sql: 'SELECT prediction_id FROM {{nba_predictions.prediction_staging}} ORDER BY prediction_id',
    });
    expect(rows.map((r) => r.prediction_id)).toEqual(['backfill', 'recent']);
  });

  it('leaves tables without partitionExpirationDays alone', async () => {
    await wh.insert({
      name: 'test.seed',
      table: 'nba_predictions.player_prop_predictions',
      rows: [predictionRow('p1', { created_at: '2020-01-01T00:00:00Z' })],
    });
    await wh.ensureTables(ALL_TABLES);
    const rows = await wh.query({ name: 'test.left', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.player_prop_predictions}}' });
    expect(rows).toEqual([{ n: 1 }]);
  });
});

describe('NUMERIC rounding', () => {
  it('rounds a number once, half away from zero, from its shortest decimal (27.349 → 27.3, 27.35 → 27.4, -0.05 → -0.1)', async () => {
    const rows = [stagingLike('a', 27.349), stagingLike('b', 27.35), stagingLike('c', -0.05)];
    await wh.insert({ name: 'test.round', table: 'nba_predictions.prediction_staging', rows });
    const read = await wh.query({
      name: 'test.read',
      sql: 'SELECT prediction_id, predicted_points FROM {{nba_predictions.prediction_staging}} ORDER BY prediction_id',
    });
    expect(read).toEqual([
      { prediction_id: 'a', predicted_points: 27.3 },
      { prediction_id: 'b', predicted_points: 27.4 },
      { prediction_id: 'c', predicted_points: -0.1 },
    ]);
  });
});

function stagingLike(id: string, predicted: number): Row {
  return predictionRow(id, { predicted_points: predicted, created_at: new Date().toISOString() });
}

describe('DuckDB threads', () => {
  it('runs each query on its calling thread by default (threads = 1), and takes more when asked', async () => {
    const threads = async (w: DuckDbWarehouse) =>
      Number((await w.query({ name: 'threads', sql: `SELECT current_setting('threads') AS n` }))[0]?.n);
    expect(await threads(wh)).toBe(1);
    const wide = await DuckDbWarehouse.open({ path: ':memory:', threads: 2 });
    try {
      expect(await threads(wide)).toBe(2);
    } finally {
      await wide.close();
    }
  });
});
