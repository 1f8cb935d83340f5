/**
 * Warehouse port over BigQuery (@google-cloud/bigquery v8). Choices and their reasons: docs/bigquery.md.
 *
 * - query: one query job (createQueryJob, so labels, jobTimeoutMs and maximumBytesBilled apply), then getQueryResults
 *   pages until the client timeout; tables render as `project.<prefix>_dataset.table`; parameters are typed REST
 *   queryParameters (bigquery-params.ts); rows are decoded from the wire with the schema (bigquery-rows.ts) and equal
 *   DuckDbWarehouse's rows.
 * - insert: legacy streaming insertAll with explicit insertIds (from the request's idColumns), ≤ 500 rows a request;
 *   per-row rejections are thrown with their rows and reasons. Streamed rows sit in the streaming buffer (~30 min) and cannot
 *   be the target of UPDATE/DELETE/MERGE — staging is only read, and expires by partition.
 * - transaction: one script job `BEGIN TRANSACTION; …; COMMIT TRANSACTION;` with the statements' parameters merged;
 *   per-statement affectedRows (and rows, for SELECTs) from its child jobs, matched by start line.
 * - retries: the client library's own retries are off; this adapter retries transient failures (bigquery-errors.ts) with
 *   bounded, jittered exponential backoff. A job whose creation response was lost is re-inserted with the same job id (a 409
 *   attaches to it) so DML never runs twice; a job that failed is re-run as a new job; a transaction is re-run whole.
 */
import { randomUUID } from 'node:crypto';
import { BigQuery, type BigQueryOptions, type Job, type Query as BigQueryQuery } from '@google-cloud/bigquery';
import { findTable, type TableDef } from '../../contracts/tables.js';
import {
  WarehouseError,
  prefixedDataset,
  type InsertRequest,
  type Query,
  type QueryResult,
  type Row,
  type StatementResult,
  type TransactionResult,
  type Warehouse,
  type WarehouseErrorCode,
  type WarehouseErrorDetails,
} from '../../ports/warehouse.js';
import { datasetsOf, renderAddColumns, renderBigQueryDdl, type BigQueryDdlOptions } from './bigquery-ddl.js';
import { apiFailureOf, describeFailure, errorMessage, isConcurrentUpdate, isRetryable, type ApiFailure } from './bigquery-errors.js';
import { restQueryParameters, type RestQueryParameter } from './bigquery-params.js';
import { decodeRows, schemaFields, type SchemaField } from './bigquery-rows.js';
import { parameterNames, quoteBigQueryIdent, renderBigQuerySql, transactionScript } from './bigquery-sql.js';
import { chunkInsertRows, insertAllRows, type InsertAllRow } from './insert-all-rows.js';
import { insertAllChunk, type InsertAllTarget } from './insert-all-writer.js';
import { mergeLabels, sanitizeLabelValue, validLabels, type Labels } from './job-labels.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs, retryPolicy, type RetryPolicy } from './retry-policy.js';
import { childJobOf, childrenByStatement, type ChildJob } from './script-child-jobs.js';

export interface BigQueryRetryEvent {
  /** The query, insert or transaction name. */
  operation: string;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  delayMs: number;
  error: string;
  jobId?: string;
}

export interface BigQueryWarehouseOptions {
  projectId: string;
  /** Location of the datasets and jobs (e.g. `US`, `europe-west2`). */
  location: string;
  /** API root, e.g. `http://127.0.0.1:9050` for a local fake (the client appends /bigquery/v2). Default: Google's. */
  apiEndpoint?: string;
  /** Server-side limit of each job (configuration.jobTimeoutMs): BigQuery cancels a job that runs longer. */
  jobTimeoutMs: number;
  /** How long the client waits for one job's results; longer fails with TIMEOUT and asks BigQuery to cancel the job. */
  timeoutMs: number;
  /** Per HTTP request (one getQueryResults long-poll waits up to ~10 s server-side). Default 60 000. */
  requestTimeoutMs?: number;
  /** Cost guard: a job that would bill more bytes fails (bytesBilledLimitExceeded) instead of running. null = no cap. */
  maximumBytesBilled: number | null;
  /** Labels on every job (e.g. `{service: 'prediction-coordinator'}`); each job also gets `query_name`. */
  labels?: Labels;
  retry?: Partial<RetryPolicy>;
  /** Credentials for tests or special cases; default: Application Default Credentials. */
  authClient?: BigQueryOptions['authClient'];
  /** Called before each retry (e.g. to log it). */
  onRetry?: (event: BigQueryRetryEvent) => void;
  /** Rows per insertAll request (BigQuery recommends ~500). Default 500. */
  insertChunkRows?: number;
}

interface JobOutcome {
  jobId: string;
  rows: Row[];
  warnings: string[];
}

/** The adapter's errors: the port's WarehouseError; not retryable unless said. */
const bqError = (name: string, message: string, code: WarehouseErrorCode, details: Partial<WarehouseErrorDetails> = {}): WarehouseError =>
  new WarehouseError(name, message, code, { retryable: false, ...details });

type JobState = 'missing' | 'running' | 'done' | 'failed' | 'unknown';

const INSERT_CHUNK_BYTES = 5_000_000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class BigQueryWarehouse implements Warehouse {
  readonly projectId: string;
  readonly location: string;
  private readonly bq: BigQuery;
  private readonly retry: RetryPolicy;
  private readonly labels: Labels;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly opts: BigQueryWarehouseOptions) {
    if (!opts.projectId) throw new Error('BigQueryWarehouse: projectId is required');
    if (!opts.location) throw new Error('BigQueryWarehouse: location is required');
    for (const key of ['jobTimeoutMs', 'timeoutMs'] as const) {
      if (!(Number.isInteger(opts[key]) && opts[key] > 0))
        throw new Error(`BigQueryWarehouse: ${key} must be a positive integer, got ${opts[key]}`);
    }
    if (opts.maximumBytesBilled !== null && !(Number.isSafeInteger(opts.maximumBytesBilled) && opts.maximumBytesBilled > 0)) {
      throw new Error(`BigQueryWarehouse: maximumBytesBilled must be a positive integer or null, got ${opts.maximumBytesBilled}`);
    }
    this.projectId = opts.projectId;
    this.location = opts.location;
    this.retry = retryPolicy(opts.retry);
    this.labels = validLabels(opts.labels ?? {}, 'BigQueryWarehouse labels');
    // `timeout` (per HTTP request) is read by the client's Service base class but missing from BigQueryOptions' type.
    const clientOptions: BigQueryOptions & { timeout: number } = {
      projectId: opts.projectId,
      location: opts.location,
      ...(opts.apiEndpoint ? { apiEndpoint: opts.apiEndpoint } : {}),
      ...(opts.authClient ? { authClient: opts.authClient } : {}),
      timeout: opts.requestTimeoutMs ?? 60_000,
      // One retry policy, ours: the library's would multiply attempts and re-send job inserts it cannot tell apart.
      retryOptions: { autoRetry: false },
    };
    this.bq = new BigQuery(clientOptions);
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Port

  async query(q: Query): Promise<Row[]> {
    return (await this.queryWithWarnings(q)).rows;
  }

  /**
   * A query with the warnings BigQuery reported beside its success: getQueryResults' `errors` on a job without
   * `errorResult` ("the first errors or warnings encountered during the running of the job … do not necessarily mean that
   * the job has completed or was unsuccessful":
   * https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/getQueryResults#response-body).
   */
  async queryWithWarnings(q: Query): Promise<QueryResult> {
    return this.track(q.name, async () => {
      const { sql, params, labels } = this.prepare(q.name, [q], () => renderBigQuerySql(q.sql, this.projectId, q.datasetPrefix));
      const job = await this.runJob(q.name, sql, params, labels);
      return { rows: job.rows, warnings: job.warnings };
    });
  }

  async insert(req: InsertRequest): Promise<void> {
    return this.track(req.name, async () => {
      let table: TableDef;
      let rows: InsertAllRow[];
      try {
        table = findTable(req.table);
        rows = insertAllRows(table, req.rows, req.idColumns);
      } catch (err) {
        throw bqError(req.name, `insert into ${req.table}: ${errorMessage(err)}`, 'INVALID_INPUT', { cause: err });
      }
      if (rows.length === 0) return;
      const dataset = prefixedDataset(table.dataset, req.datasetPrefix);
      const target = this.bq.dataset(dataset, { projectId: this.projectId }).table(table.name);
      const fullName = `${this.projectId}.${dataset}.${table.name}`;
      const rowIndex = new Map<string, number>();
      rows.forEach((r, i) => {
        if (!rowIndex.has(r.insertId)) rowIndex.set(r.insertId, i);
      });
      const writer: InsertAllTarget = {
        name: req.name,
        table: target,
        fullName,
        rowIndex,
        total: rows.length,
        maxAttempts: this.retry.maxAttempts,
        backoff: (attempt, failure) => this.backoff(req.name, attempt, failure, undefined),
      };
      let written = 0;
      for (const chunk of chunkInsertRows(rows, this.opts.insertChunkRows ?? 500, INSERT_CHUNK_BYTES)) {
        written = await insertAllChunk(writer, chunk, written);
      }
    });
  }

  async transaction(name: string, statements: Query[]): Promise<TransactionResult> {
    return this.track(name, async () => {
      if (statements.length === 0) return { statements: [], warnings: [] };
      let startLines: number[] = [];
      const { sql, params, labels } = this.prepare(name, statements, () => {
        const script = transactionScript(statements, (st) => renderBigQuerySql(st.sql, this.projectId, st.datasetPrefix));
        startLines = script.startLines;
        return { sql: script.sql, params: script.params };
      });
      const parent = await this.runJob(name, sql, params, labels);
      try {
        const children = await this.withRetry(name, 'list child jobs', () => this.childJobs(parent.jobId));
        const byStatement = childrenByStatement(
          children,
          startLines,
          statements.map((s) => s.name),
        );
        const results: StatementResult[] = [];
        const warnings = [...parent.warnings];
        for (const child of byStatement) {
          warnings.push(...child.warnings);
          const rows =
            child.statementType === 'SELECT'
              ? (
                  await this.withRetry(name, 'read child results', () =>
                    this.readResults(name, this.bq.job(child.jobId, { location: child.location ?? this.location })),
                  )
                ).rows
              : [];
          results.push({ affectedRows: child.affectedRows ?? 0, rows });
        }
        return { statements: results, warnings: [...new Set(warnings)] };
      } catch (err) {
        throw bqError(
          name,
          `the transaction COMMITTED (job ${parent.jobId}), but its per-statement results could not be read: ${errorMessage(err)}`,
          'RESULT_UNKNOWN',
          {
            retryable: false,
            jobId: parent.jobId,
            cause: err,
          },
        );
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Tables

  /**
   * Creates the tables' datasets and tables if missing (one script job of CREATE … IF NOT EXISTS), then adds columns the
   * definition has and an existing table lacks (NULLABLE, as BigQuery requires), like DuckDbWarehouse.ensureTables. Changing
   * an existing table's partitioning or clustering is not done here (BigQuery needs the table re-created).
   */
  async ensureTables(tables: readonly TableDef[], datasetPrefix?: string): Promise<void> {
    if (tables.length === 0) return;
    await this.track('ensureTables', async () => {
      const ddl: BigQueryDdlOptions = { projectId: this.projectId, location: this.location, ...(datasetPrefix ? { datasetPrefix } : {}) };
      const create = renderBigQueryDdl(tables, ddl);
      await this.runJob('ensureTables.create', create.join(';\n'), [], this.jobLabels('ensureTables.create', []));

      const columnsSql = datasetsOf(tables, datasetPrefix)
        .map(
          (ds) =>
            `SELECT table_schema, table_name, column_name FROM ${quoteBigQueryIdent(`${this.projectId}.${ds}`)}.INFORMATION_SCHEMA.COLUMNS WHERE table_name IN UNNEST(@tables)`,
        )
        .join('\nUNION ALL\n');
      const params = restQueryParameters({
        tables: { type: 'ARRAY', elementType: 'STRING', value: [...new Set(tables.map((t) => t.name))] },
      });
      const existing = await this.runJob('ensureTables.columns', columnsSql, params, this.jobLabels('ensureTables.columns', []));
      const have = new Map<string, Set<string>>();
      for (const r of existing.rows) {
        const key = `${String(r.table_schema)}.${String(r.table_name)}`;
        const set = have.get(key) ?? new Set<string>();
        set.add(String(r.column_name));
        have.set(key, set);
      }
      const alters: string[] = [];
      for (const table of tables) {
        const key = `${prefixedDataset(table.dataset, datasetPrefix)}.${table.name}`;
        const cols = have.get(key);
        if (!cols)
          throw bqError(
            'ensureTables',
            `${this.projectId}.${key} has no columns in INFORMATION_SCHEMA after CREATE TABLE IF NOT EXISTS`,
            'QUERY_FAILED',
          );
        const missing = table.columns.filter((c) => !cols.has(c.name));
        if (missing.length > 0) alters.push(renderAddColumns(table, missing, ddl));
      }
      if (alters.length > 0)
        await this.runJob('ensureTables.add_columns', alters.join(';\n'), [], this.jobLabels('ensureTables.add_columns', []));
    });
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Jobs

  /** Renders and checks a query or transaction before anything is sent: bad input is INVALID_INPUT, never a job. */
  private prepare(
    name: string,
    statements: readonly Query[],
    render: () => string | { sql: string; params: NonNullable<Query['params']> },
  ): { sql: string; params: RestQueryParameter[]; labels: Labels } {
    try {
      const rendered = render();
      const sql = typeof rendered === 'string' ? rendered : rendered.sql;
      const params = typeof rendered === 'string' ? (statements[0]?.params ?? {}) : rendered.params;
      const missing = parameterNames(sql).filter((p) => params[p] === undefined);
      if (missing.length > 0) throw new Error(`parameter ${missing.map((p) => `@${p}`).join(', ')} has no value`);
      return { sql, params: restQueryParameters(params), labels: this.jobLabels(name, statements) };
    } catch (err) {
      throw bqError(name, errorMessage(err), 'INVALID_INPUT', { cause: err });
    }
  }

  private jobLabels(name: string, statements: readonly Query[]): Labels {
    const own = mergeLabels(
      statements.map((s) => (s.labels ? validLabels(s.labels, `statement ${s.name}`) : undefined)),
      'error',
      name,
    );
    return mergeLabels([this.labels, { query_name: sanitizeLabelValue(name) }, own], 'override', name);
  }

  private newJobId(name: string): string {
    return `${name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80)}_${randomUUID()}`;
  }

  /**
   * Creates the query job and reads its results, retrying transient failures. After a failure the job's state decides:
   * failed → a new job (new id); never created or unknown → insert again with the same id (409 attaches to the existing job,
   * so a DML job whose creation response was lost runs once); running or done → read its results again.
   */
  private async runJob(name: string, sql: string, params: RestQueryParameter[], labels: Labels): Promise<JobOutcome> {
    let jobId = this.newJobId(name);
    let job: Job | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        job ??= await this.createJob(jobId, sql, params, labels);
        return { jobId, ...(await this.readResults(name, job)) };
      } catch (err) {
        if (err instanceof WarehouseError) throw err;
        const failure = apiFailureOf(err);
        if (!isRetryable(failure) || attempt >= this.retry.maxAttempts) throw this.failed(name, failure, attempt, jobId, err);
        const state = await this.jobState(jobId);
        if (state === 'failed') {
          jobId = this.newJobId(name);
          job = undefined;
        } else if (state === 'missing' || state === 'unknown') {
          job = undefined;
        }
        await this.backoff(name, attempt, failure, jobId);
      }
    }
  }

  private async createJob(jobId: string, sql: string, params: RestQueryParameter[], labels: Labels): Promise<Job> {
    try {
      const [job] = await this.bq.createQueryJob({
        query: sql,
        useLegacySql: false,
        ...(params.length > 0 ? { parameterMode: 'NAMED', queryParameters: libraryParameters(params) } : {}),
        ...(this.opts.maximumBytesBilled !== null ? { maximumBytesBilled: String(this.opts.maximumBytesBilled) } : {}),
        jobTimeoutMs: this.opts.jobTimeoutMs,
        labels,
        jobId,
        location: this.location,
      });
      return job;
    } catch (err) {
      // Already exists: an earlier attempt created it and its response was lost. Attach instead of running it twice.
      if (apiFailureOf(err).httpStatus === 409) return this.bq.job(jobId, { location: this.location });
      throw err;
    }
  }

  private async jobState(jobId: string): Promise<JobState> {
    try {
      const meta: unknown = (await this.bq.job(jobId, { location: this.location }).getMetadata())[0];
      const status = isRecord(meta) && isRecord(meta.status) ? meta.status : {};
      if (status.state !== 'DONE') return 'running';
      return status.errorResult ? 'failed' : 'done';
    } catch (err) {
      return apiFailureOf(err).httpStatus === 404 ? 'missing' : 'unknown';
    }
  }

  /** Pages through a job's results until it completes, within the client timeout; decodes them with the schema. */
  private async readResults(name: string, job: Job): Promise<{ rows: Row[]; warnings: string[] }> {
    const deadline = Date.now() + this.opts.timeoutMs;
    const raw: unknown[] = [];
    const warnings = new Set<string>();
    let fields: SchemaField[] | undefined;
    let pageToken: string | undefined;
    for (;;) {
      const [rows, , response] = await job.getQueryResults({
        autoPaginate: false,
        skipParsing: true,
        'formatOptions.useInt64Timestamp': true,
        ...(pageToken ? { pageToken } : {}),
      });
      const resp: Record<string, unknown> = isRecord(response) ? response : {};
      if (resp.jobComplete === false) {
        if (Date.now() >= deadline) throw await this.timedOut(name, job);
        await sleep(100); // the server already held the call (up to ~10 s) before answering
        continue;
      }
      for (const w of warningsOf(resp.errors)) warnings.add(w);
      try {
        fields ??= schemaFields(resp.schema);
      } catch (err) {
        throw bqError(name, errorMessage(err), 'QUERY_FAILED', { jobId: job.id ?? undefined, cause: err });
      }
      raw.push(...(Array.isArray(rows) ? (rows as unknown[]) : []));
      if (typeof resp.pageToken !== 'string' || resp.pageToken === '') break;
      pageToken = resp.pageToken;
    }
    try {
      return { rows: decodeRows(fields ?? [], raw), warnings: [...warnings] };
    } catch (err) {
      throw bqError(name, errorMessage(err), 'QUERY_FAILED', { jobId: job.id ?? undefined, cause: err });
    }
  }

  private async timedOut(name: string, job: Job): Promise<WarehouseError> {
    let cancel = 'cancel requested';
    try {
      await job.cancel();
    } catch (err) {
      cancel = `cancel failed: ${errorMessage(err)}`;
    }
    // A job that outlived the client's patience may finish on a later attempt (a redelivery): worth retrying.
    return bqError(name, `job ${job.id ?? '?'} did not complete within ${this.opts.timeoutMs} ms (${cancel})`, 'TIMEOUT', {
      retryable: true,
      jobId: job.id ?? undefined,
    });
  }

  private async childJobs(parentJobId: string): Promise<ChildJob[]> {
    const out: ChildJob[] = [];
    let pageToken: string | undefined;
    for (;;) {
      const [, , response] = await this.bq.getJobs({
        parentJobId,
        projection: 'full',
        autoPaginate: false,
        ...(pageToken ? { pageToken } : {}),
      });
      const resp: Record<string, unknown> = isRecord(response) ? response : {};
      for (const entry of Array.isArray(resp.jobs) ? (resp.jobs as unknown[]) : []) out.push(childJobOf(entry));
      if (typeof resp.nextPageToken !== 'string' || resp.nextPageToken === '') return out;
      pageToken = resp.nextPageToken;
    }
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Retry plumbing

  /** Retries an idempotent read (listing child jobs, reading a child's rows) on transient failures. */
  private async withRetry<T>(name: string, what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (err instanceof WarehouseError) throw err;
        const failure = apiFailureOf(err);
        if (!isRetryable(failure) || attempt >= this.retry.maxAttempts)
          throw new Error(`${what}: ${describeFailure(failure)}`, { cause: err });
        await this.backoff(name, attempt, failure, undefined);
      }
    }
  }

  private async backoff(name: string, attempt: number, failure: ApiFailure, jobId: string | undefined): Promise<void> {
    const delayMs = backoffDelayMs(this.retry, attempt);
    this.opts.onRetry?.({ operation: name, attempt, delayMs, error: describeFailure(failure), ...(jobId ? { jobId } : {}) });
    await sleep(delayMs);
  }

  private failed(name: string, failure: ApiFailure, attempts: number, jobId: string, cause: unknown): WarehouseError {
    const retryable = isRetryable(failure);
    const conflict = isConcurrentUpdate(failure);
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    const code: WarehouseErrorCode = conflict
      ? 'TRANSACTION_CONFLICT'
      : failure.reasons.includes('notFound')
        ? 'NOT_FOUND'
        : 'QUERY_FAILED';
    return bqError(name, `${conflict ? 'transaction conflict: ' : ''}${describeFailure(failure)}${tries}`, code, {
      retryable,
      attempts,
      reasons: failure.reasons,
      jobId,
      cause,
    });
  }

  private track<T>(name: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(bqError(name, 'the warehouse is closed', 'CLOSED', { retryable: true }));
    const op = work();
    this.inFlight.add(op);
    const forget = (): void => {
      this.inFlight.delete(op);
    };
    op.then(forget, forget);
    return op;
  }
}

/** The messages of a response's `errors` (ErrorProto list): warnings when the job did not fail. */
function warningsOf(errors: unknown): string[] {
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((e: unknown) => {
    if (!isRecord(e)) return [];
    const reason = typeof e.reason === 'string' ? `[${e.reason}] ` : '';
    return typeof e.message === 'string' ? [`${reason}${e.message}`] : [];
  });
}

/**
 * The client types a parameter value as `string | undefined`; a NULL is sent as `{value: null}`, as the client itself (and
 * the Python client) sends it and the API accepts. The one cast, at the boundary, from our exact REST shape.
 */
function libraryParameters(params: readonly RestQueryParameter[]): NonNullable<BigQueryQuery['queryParameters']> {
  return params as unknown as NonNullable<BigQueryQuery['queryParameters']>;
}
