/**
 * A local fake of the BigQuery v2 REST API — just what BigQueryWarehouse uses — on 127.0.0.1 (random port), for the
 * @google-cloud/bigquery client pointed at it with `apiEndpoint: fake.url`. It records every request and answers as
 * BigQuery does:
 *   POST /projects/P/jobs                    jobs.insert      (409 duplicate for a known job id)
 *   GET  /projects/P/queries/J               jobs.getQueryResults (schema + f/v rows; a failed job answers its error;
 *                                            warnings of a successful job in `errors`)
 *   GET  /projects/P/jobs/J                  jobs.get         (RUNNING or DONE; errorResult for a failed job, status.errors)
 *   GET  /projects/P/jobs?parentJobId=J      jobs.list        (a script's child jobs, newest first, with stack frames)
 *   POST /projects/P/jobs/J/cancel           jobs.cancel
 *   POST /projects/P/datasets/D/tables/T/insertAll   tabledata.insertAll (insertId dedupe; per-row insertErrors)
 *
 * Two ways to answer a job:
 *  - handlers (default): results come from `onQuery` (per statement; a script's statements are split on `;` ending a
 *    line) and the job is done at once;
 *  - engine (opt-in: `start({engine: duckdbWarehouse})` or `attachEngine`): the job runs against that real DuckDB database
 *    (fake-bigquery-engine.ts translates the adapter's SQL back to the project's dialect), asynchronously — RUNNING until
 *    done; a script `BEGIN TRANSACTION; …; COMMIT TRANSACTION;` runs in one DuckDB transaction with a child job per
 *    statement; insertAll rows are stored in the DuckDB tables. On top of it, BigQuery's behaviours that matter to the
 *    product: the streaming buffer holding rows back (`hideStreamedRows`), a transaction cancelled by a concurrent one on
 *    the same table (always on; `transactionDelayMs` / `holdTransactions` make two overlap), each with its documentation
 *    link where it is implemented.
 * In both modes: failures are injected with `failJobs` / `failJobsMatching` (the job fails: getQueryResults answers the
 * error) and `failRequests` (the HTTP call fails); warnings with `warnJobs` (the job succeeds and carries them).
 * Values in results are natural JS values, encoded per the schema like BigQuery: INT64/NUMERIC/FLOAT64 as strings, BOOL as
 * 'true'/'false', DATE as text, TIMESTAMP as int64 micros (formatOptions.useInt64Timestamp) or float seconds, JSON as text,
 * REPEATED as [{v}], RECORD as {f: [{v}]}, NULL as null.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Client } from 'google-auth-library';
import { errorMessage } from '../../shared/errors/error-message.js';
import type { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { FakeBigQueryEngine, mutatedTable, type StreamingHold, type StreamingHoldOptions } from './fake-bigquery-engine.js';

export type { StreamingHold, StreamingHoldOptions } from './fake-bigquery-engine.js';

export type RequestKind =
  | 'jobs.insert'
  | 'jobs.getQueryResults'
  | 'jobs.get'
  | 'jobs.list'
  | 'jobs.cancel'
  | 'tabledata.insertAll'
  | 'unknown';

export interface RecordedRequest {
  kind: RequestKind;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeField {
  name: string;
  type: string;
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  fields?: FakeField[];
}

export interface FakeResult {
  schema?: FakeField[];
  rows?: Array<Record<string, unknown>>;
  /** For DML: numDmlAffectedRows (and dmlStats.updatedRowCount). */
  affectedRows?: number;
  statementType?: string;
}

export interface FakeError {
  code: number;
  reason: string;
  message: string;
}

export interface FakeStatement {
  sql: string;
  jobId: string;
  parentJobId: string | undefined;
  /** The job's REST queryParameters, by name. */
  params: Record<string, { parameterType: unknown; parameterValue: unknown }>;
}

/** A jobs.insert body, as the client sends it. */
export interface InsertedJob {
  jobReference: { projectId: string; jobId: string; location?: string };
  configuration: {
    query: {
      query: string;
      useLegacySql?: boolean;
      parameterMode?: string;
      queryParameters?: Array<{ name: string; parameterType: unknown; parameterValue: unknown }>;
      maximumBytesBilled?: string;
    };
    labels?: Record<string, string>;
    jobTimeoutMs?: string;
  };
}

export type QueryHandler = (st: FakeStatement) => FakeResult | { error: FakeError } | undefined;

export interface RequestFailure extends FakeError {
  /** jobs.insert only: create the job anyway, then fail the call (the response was lost). */
  afterCreate?: boolean;
}

export type InsertAllHandler = (
  table: string,
  rows: Array<{ insertId?: string; json: Record<string, unknown> }>,
) => Array<{ index: number; errors: Array<{ reason: string; message: string }> }> | undefined;

/** A warning a successful job carries (an ErrorProto in `errors` / `status.errors`, without `errorResult`). */
export interface FakeWarning {
  reason: string;
  message: string;
}

/** A transaction (script job) the engine ran, in start order. */
export interface FakeTransaction {
  jobId: string;
  /** The tables it mutated (claimed), fully qualified. */
  tables: string[];
  outcome: 'running' | 'committed' | 'cancelled_by_conflict' | 'failed';
  /** Order of events across transactions: when it began and ended (a counter, not a time). */
  began: number;
  ended: number | null;
}

/** A transaction the engine cancelled because another running transaction mutated the same table. */
export interface FakeConflict {
  jobId: string;
  table: string;
  heldBy: string;
}

interface FakeJob {
  jobId: string;
  projectId: string;
  location: string;
  sql: string;
  parentJobId: string | undefined;
  created: number;
  result: FakeResult;
  error: FakeError | undefined;
  warnings: FakeWarning[];
  startLine: number | undefined;
  children: string[];
  pendingPolls: number;
  cancelled: boolean;
  state: 'RUNNING' | 'DONE';
  /** Resolves when the job is DONE (never rejects). */
  done: Promise<void>;
  /** Wakes a script waiting before its COMMIT (a cancel). */
  wake?: () => void;
}

/** A credential that needs no metadata server: a static bearer token that never expires during a test. */
export function staticTokenAuth(token = 'fake-token'): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
  return client;
}

const BASE = '/bigquery/v2';

/** How long one getQueryResults call holds a running job before answering jobComplete:false (BigQuery holds ~10 s). */
const LONG_POLL_MS = 1_000;

interface Gate {
  opened: Promise<void>;
  open: () => void;
  waiting: Set<string>;
}

export class FakeBigQuery {
  readonly requests: RecordedRequest[] = [];
  /** Rows stored by insertAll, by `project.dataset.table` (with the engine, also written to its DuckDB tables). */
  readonly tables = new Map<string, Array<{ insertId?: string; json: Record<string, unknown> }>>();
  /** Each new job first answers jobComplete:false this many times. */
  pendingPolls = 0;
  /** Rows per getQueryResults page (default: all in one). */
  pageSize: number | undefined;
  /**
   * insertAll drops a row whose insertId it has seen. BigQuery does so "on a best effort basis" and remembers an id "for at
   * least one minute" (https://cloud.google.com/bigquery/docs/streaming-data-into-bigquery#dataconsistency): false stands
   * for a copy that arrives after that, or that the best effort misses.
   */
  dedupeInsertIds = true;
  /** Engine: every transaction waits this long before its COMMIT, holding the tables it mutated (so two can overlap). */
  transactionDelayMs = 0;
  /** Engine: every transaction, in start order. */
  readonly transactions: FakeTransaction[] = [];
  /** Engine: transactions cancelled by a concurrent one. */
  readonly conflicts: FakeConflict[] = [];
  /** Jobs (and child jobs) that succeeded with warnings, with their warnings, in order. */
  readonly warned: Array<{ jobId: string; warnings: FakeWarning[] }> = [];
  private handler: QueryHandler = () => undefined;
  private insertHandler: InsertAllHandler = () => undefined;
  private readonly jobFailures: Array<{ match: (sql: string) => boolean; error: FakeError }> = [];
  private readonly jobWarnings: Array<{ match: (sql: string) => boolean; warning: FakeWarning }> = [];
  private readonly requestFailures = new Map<RequestKind, RequestFailure[]>();
  private readonly jobs = new Map<string, FakeJob>();
  private clock = 0;
  private events = 0;
  private engineState: FakeBigQueryEngine | undefined;
  private gate: Gate | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Starts the fake; with `engine`, jobs run against that DuckDB warehouse's database (`now`: the streaming buffer's clock). */
  static async start(opts: { engine?: DuckDbWarehouse; now?: () => number } = {}): Promise<FakeBigQuery> {
    // Requests arrive only after listen(), by when `fake` is assigned.
    const server = createServer((req, res) => {
      void fake.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeBigQuery(server, `http://127.0.0.1:${port}`);
    if (opts.engine) fake.attachEngine(opts.engine, opts.now);
    return fake;
  }

  async close(): Promise<void> {
    this.gate?.open();
    await Promise.allSettled([...this.jobs.values()].map((j) => j.done));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** From now on jobs run against `warehouse`'s DuckDB database (its tables must exist) and insertAll writes into it. */
  attachEngine(warehouse: DuckDbWarehouse, now?: () => number): void {
    this.engineState = new FakeBigQueryEngine(warehouse, now);
  }

  private get engine(): FakeBigQueryEngine {
    if (!this.engineState) throw new Error('fake BigQuery: this needs the engine (start({engine}) or attachEngine)');
    return this.engineState;
  }

  onQuery(handler: QueryHandler): void {
    this.handler = handler;
  }

  onInsertAll(handler: InsertAllHandler): void {
    this.insertHandler = handler;
  }

  /** The next jobs fail with these errors, one each, in order (a script fails whole). */
  failJobs(...errors: FakeError[]): void {
    this.jobFailures.push(...errors.map((error) => ({ match: () => true, error })));
  }

  /** The next jobs whose SQL `match`es fail with these errors, one each, in order (a script fails whole, nothing runs). */
  failJobsMatching(match: (sql: string) => boolean, ...errors: FakeError[]): void {
    this.jobFailures.push(...errors.map((error) => ({ match, error })));
  }

  /** The next calls of `kind` fail with these HTTP errors, one each, in order. */
  failRequests(kind: RequestKind, ...failures: RequestFailure[]): void {
    this.requestFailures.set(kind, [...(this.requestFailures.get(kind) ?? []), ...failures]);
  }

  /**
   * Every later job (or script statement) whose SQL `match`es succeeds and carries `warning`: in getQueryResults' `errors`
   * and in the job's `status.errors`, without `errorResult` — how BigQuery reports "the first errors or warnings
   * encountered during the running of the job" on a job that did not fail
   * (https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/getQueryResults#response-body,
   * https://cloud.google.com/bigquery/docs/reference/rest/v2/Job#JobStatus: errors "do not necessarily mean that the job
   * has not completed or was unsuccessful"). Returns a function that stops it.
   */
  warnJobs(match: (sql: string) => boolean, warning: FakeWarning): () => void {
    const entry = { match, warning };
    this.jobWarnings.push(entry);
    return () => {
      const i = this.jobWarnings.indexOf(entry);
      if (i >= 0) this.jobWarnings.splice(i, 1);
    };
  }

  /** Engine: BigQuery's streaming buffer holding insertAll rows back from queries (fake-bigquery-engine.ts, with the link). */
  hideStreamedRows(opts: StreamingHoldOptions = {}): StreamingHold {
    return this.engine.hideStreamedRows(opts);
  }

  /**
   * Engine: transactions that reach their COMMIT from now on wait there — holding the tables they mutated, so a concurrent
   * transaction on one of them is cancelled — until `release()`. `waiting` names the transactions waiting now.
   */
  holdTransactions(): { release(): void; readonly waiting: string[] } {
    this.gate?.open();
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const gate: Gate = { opened, open, waiting: new Set() };
    this.gate = gate;
    return {
      release: () => {
        gate.open();
        if (this.gate === gate) this.gate = undefined;
      },
      get waiting() {
        return [...gate.waiting];
      },
    };
  }

  requestsOf(kind: RequestKind): RecordedRequest[] {
    return this.requests.filter((r) => r.kind === kind);
  }

  /** The body of every jobs.insert, in order. */
  insertedJobs(): InsertedJob[] {
    return this.requestsOf('jobs.insert').map((r) => r.body as InsertedJob);
  }

  /** Jobs created (retries and 409 re-sends of one job id count once) whose SQL `match`es, in creation order. */
  createdJobs(match: (sql: string) => boolean = () => true): Array<{ jobId: string; sql: string; failed: boolean }> {
    return [...this.jobs.values()]
      .filter((j) => j.parentJobId === undefined && match(j.sql))
      .sort((a, b) => a.created - b.created)
      .map((j) => ({ jobId: j.jobId, sql: j.sql, failed: j.error !== undefined }));
  }

  // -------------------------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text ? JSON.parse(text) : undefined;
    const path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) : url.pathname;
    const method = req.method ?? 'GET';
    const kind = kindOf(method, path);
    this.requests.push({ kind, method, path, query: Object.fromEntries(url.searchParams), headers: req.headers, body });

    const failure = this.requestFailures.get(kind)?.shift();
    if (failure) {
      if (failure.afterCreate && kind === 'jobs.insert') this.insertJob(path, body);
      return send(res, failure.code, errorBody(failure));
    }
    try {
      switch (kind) {
        case 'jobs.insert':
          return this.jobsInsert(res, path, body);
        case 'jobs.getQueryResults':
          return await this.getQueryResults(res, path, url.searchParams);
        case 'jobs.get':
          return this.jobsGet(res, path);
        case 'jobs.list':
          return this.jobsList(res, url.searchParams);
        case 'jobs.cancel':
          return this.jobsCancel(res, path);
        case 'tabledata.insertAll':
          return await this.insertAll(res, path, body);
        default:
          return send(res, 404, errorBody({ code: 404, reason: 'notFound', message: `fake BigQuery: no route ${method} ${path}` }));
      }
    } catch (err) {
      return send(res, 500, errorBody({ code: 500, reason: 'internalError', message: `fake BigQuery: ${errorMessage(err)}` }));
    }
  }

  private jobsInsert(res: ServerResponse, path: string, body: unknown): void {
    const ref = (body as { jobReference?: { jobId?: string } }).jobReference ?? {};
    if (ref.jobId && this.jobs.has(ref.jobId)) {
      return send(res, 409, errorBody({ code: 409, reason: 'duplicate', message: `Already Exists: Job ${projectOf(path)}:${ref.jobId}` }));
    }
    const job = this.insertJob(path, body);
    send(res, 200, { ...this.resource(job), status: { state: 'RUNNING' } });
  }

  /** Creates a job and starts it: at once with the handlers, in the background with the engine. */
  private insertJob(path: string, body: unknown): FakeJob {
    const b = body as {
      jobReference?: { jobId?: string; location?: string };
      configuration?: {
        query?: { query?: string; queryParameters?: Array<{ name: string; parameterType: unknown; parameterValue: unknown }> };
      };
    };
    const jobId = b.jobReference?.jobId ?? `fake_${this.jobs.size + 1}`;
    const sql = b.configuration?.query?.query ?? '';
    const params = Object.fromEntries(
      (b.configuration?.query?.queryParameters ?? []).map((p) => [
        p.name,
        { parameterType: p.parameterType, parameterValue: p.parameterValue },
      ]),
    );
    const job = this.newJob(jobId, projectOf(path), b.jobReference?.location ?? 'US', sql, undefined, undefined);
    const failureAt = this.jobFailures.findIndex((f) => f.match(sql));
    if (failureAt >= 0) {
      job.error = (this.jobFailures.splice(failureAt, 1)[0] as { error: FakeError }).error;
      this.finish(job);
      return job;
    }
    if (this.engineState) {
      job.state = 'RUNNING';
      job.done = this.runOnEngine(this.engineState, job, params)
        .catch((err: unknown) => {
          job.error ??= { code: 500, reason: 'internalError', message: `fake BigQuery engine: ${errorMessage(err)}` };
        })
        .finally(() => this.finish(job));
      return job;
    }
    this.runOnHandlers(job, params);
    this.finish(job);
    return job;
  }

  private finish(job: FakeJob): void {
    job.state = 'DONE';
    if (!job.error && job.warnings.length > 0) this.warned.push({ jobId: job.jobId, warnings: job.warnings });
  }

  /** Handlers: runs each statement through `onQuery` (a script's statements as child jobs). */
  private runOnHandlers(job: FakeJob, params: FakeStatement['params']): void {
    const statements = splitScript(job.sql);
    if (statements.length <= 1) {
      this.run(job, { sql: job.sql, jobId: job.jobId, parentJobId: undefined, params });
      return;
    }
    job.result = { statementType: 'SCRIPT' };
    statements.forEach((st, i) => {
      const child = this.newJob(`script_job_${job.jobId}_${i}`, job.projectId, job.location, st.sql, job.jobId, st.line);
      job.children.push(child.jobId);
      const control = /^(BEGIN|COMMIT|ROLLBACK)\s+TRANSACTION$/i.exec(st.sql);
      if (control) {
        child.result = { statementType: `${(control[1] as string).toUpperCase()}_TRANSACTION` };
        return;
      }
      if (job.error) return;
      this.run(child, { sql: st.sql, jobId: child.jobId, parentJobId: job.jobId, params });
      if (child.error) job.error = child.error;
      else job.warnings.push(...child.warnings);
      this.finish(child);
    });
  }

  private run(job: FakeJob, st: FakeStatement): void {
    const out = this.handler(st);
    if (out && 'error' in out) job.error = out.error;
    else {
      job.result = { statementType: statementTypeOf(st.sql), ...(out ?? {}) };
      job.warnings.push(...this.warningsFor(st.sql));
    }
  }

  private warningsFor(sql: string): FakeWarning[] {
    return [...this.jobWarnings.filter((w) => w.match(sql)).map((w) => w.warning), ...(this.engineState?.hiddenWarnings(sql) ?? [])];
  }

  /** Engine: a statement runs on its own connection; a script runs its statements as child jobs on one connection. */
  private async runOnEngine(engine: FakeBigQueryEngine, job: FakeJob, params: FakeStatement['params']): Promise<void> {
    await engine.flushDue();
    const statements = splitScript(job.sql);
    if (statements.length <= 1) {
      const table = mutatedTable(job.sql);
      if (table) await engine.waitUntilFree(table);
      try {
        const out = await engine.withConnection((conn) => engine.execute(conn, job.sql, params));
        job.result = { statementType: statementTypeOf(job.sql), ...out };
        job.warnings.push(...this.warningsFor(job.sql));
      } catch (err) {
        job.error = { code: 400, reason: 'invalidQuery', message: errorMessage(err) };
      }
      return;
    }
    job.result = { statementType: 'SCRIPT' };
    const tx: FakeTransaction = { jobId: job.jobId, tables: [], outcome: 'running', began: ++this.events, ended: null };
    await engine.withConnection(async (conn) => {
      let open = false;
      try {
        for (const [i, st] of statements.entries()) {
          const child = this.newJob(`script_job_${job.jobId}_${i}`, job.projectId, job.location, st.sql, job.jobId, st.line);
          job.children.push(child.jobId);
          child.state = 'RUNNING';
          try {
            const control = /^(BEGIN|COMMIT|ROLLBACK)\s+TRANSACTION$/i.exec(st.sql)?.[1]?.toUpperCase();
            if (control) {
              child.result = { statementType: `${control}_TRANSACTION` };
              if (control === 'BEGIN') {
                await conn.run('BEGIN TRANSACTION');
                open = true;
                this.transactions.push(tx);
              } else if (control === 'COMMIT') {
                await this.beforeCommit(job);
                await conn.run('COMMIT');
                open = false;
                tx.outcome = 'committed';
              } else {
                await conn.run('ROLLBACK');
                open = false;
              }
              continue;
            }
            const table = mutatedTable(st.sql);
            if (table && open) {
              const heldBy = engine.claim(table, job.jobId);
              if (heldBy !== null) {
                // https://cloud.google.com/bigquery/docs/transactions#transaction_concurrency: "Conflicting transactions are
                // cancelled." The job fails with invalidQuery; running it again once the other has ended succeeds.
                this.conflicts.push({ jobId: job.jobId, table, heldBy });
                tx.outcome = 'cancelled_by_conflict';
                throw Object.assign(
                  new Error(
                    `Transaction is aborted due to concurrent update against table ${table.replace('.', ':')}. Transaction ID: ${job.jobId}`,
                  ),
                  { fake: true },
                );
              }
              if (!tx.tables.includes(table)) tx.tables.push(table);
            } else if (table) {
              await engine.waitUntilFree(table);
            }
            const out = await engine.execute(conn, st.sql, params);
            child.result = { statementType: statementTypeOf(st.sql), ...out };
            child.warnings.push(...this.warningsFor(st.sql));
            job.warnings.push(...child.warnings.filter((w) => !job.warnings.some((x) => x.message === w.message)));
          } catch (err) {
            child.error = { code: 400, reason: 'invalidQuery', message: errorMessage(err) };
            job.error = child.error;
            throw err;
          } finally {
            this.finish(child);
          }
        }
      } catch {
        if (tx.outcome === 'running') tx.outcome = 'failed';
        if (open) await conn.run('ROLLBACK').catch(() => undefined);
      } finally {
        engine.releaseClaims(job.jobId);
        tx.ended = ++this.events;
      }
    });
  }

  /** A transaction about to commit waits here (transactionDelayMs, holdTransactions) still holding its tables. */
  private async beforeCommit(job: FakeJob): Promise<void> {
    const cancelled = new Promise<void>((resolve) => (job.wake = resolve));
    if (this.transactionDelayMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => (timer = setTimeout(r, this.transactionDelayMs))), cancelled]);
      clearTimeout(timer);
    }
    const gate = this.gate;
    if (gate) {
      gate.waiting.add(job.jobId);
      await Promise.race([gate.opened, cancelled]);
      gate.waiting.delete(job.jobId);
    }
    if (job.cancelled) throw new Error('Job execution was cancelled: User requested cancellation');
  }

  private newJob(
    jobId: string,
    projectId: string,
    location: string,
    sql: string,
    parentJobId: string | undefined,
    startLine: number | undefined,
  ): FakeJob {
    const job: FakeJob = {
      jobId,
      projectId,
      location,
      sql,
      parentJobId,
      created: ++this.clock,
      result: {},
      error: undefined,
      warnings: [],
      startLine,
      children: [],
      pendingPolls: parentJobId ? 0 : this.pendingPolls,
      cancelled: false,
      state: 'DONE',
      done: Promise.resolve(),
    };
    this.jobs.set(jobId, job);
    return job;
  }

  private resource(job: FakeJob): Record<string, unknown> {
    const query: Record<string, unknown> = { statementType: job.result.statementType };
    if (job.result.affectedRows !== undefined) {
      query.numDmlAffectedRows = String(job.result.affectedRows);
      query.dmlStats = { updatedRowCount: String(job.result.affectedRows) };
    }
    const statistics: Record<string, unknown> = { creationTime: String(1_700_000_000_000 + job.created), query };
    if (job.parentJobId) {
      statistics.parentJobId = job.parentJobId;
      statistics.scriptStatistics = {
        evaluationKind: 'STATEMENT',
        stackFrames: [{ startLine: job.startLine, startColumn: 1, text: job.sql }],
      };
    }
    if (job.children.length > 0) statistics.numChildJobs = String(job.children.length);
    const status: Record<string, unknown> = { state: job.state };
    if (job.state === 'DONE' && job.error) {
      status.errorResult = { reason: job.error.reason, message: job.error.message };
      status.errors = [{ reason: job.error.reason, message: job.error.message }];
    } else if (job.state === 'DONE' && job.warnings.length > 0) {
      status.errors = job.warnings.map((w) => ({ reason: w.reason, message: w.message }));
    }
    return {
      kind: 'bigquery#job',
      id: `${job.projectId}:${job.location}.${job.jobId}`,
      jobReference: { projectId: job.projectId, jobId: job.jobId, location: job.location },
      configuration: { query: { query: job.sql } },
      status,
      state: job.state,
      statistics,
    };
  }

  private job(path: string): FakeJob | undefined {
    const id = /\/(?:jobs|queries)\/([^/]+)/.exec(path)?.[1];
    return id === undefined ? undefined : this.jobs.get(decodeURIComponent(id));
  }

  private notFound(res: ServerResponse, path: string): void {
    send(res, 404, errorBody({ code: 404, reason: 'notFound', message: `Not found: Job ${path}` }));
  }

  private async getQueryResults(res: ServerResponse, path: string, qs: URLSearchParams): Promise<void> {
    const job = this.job(path);
    if (!job) return this.notFound(res, path);
    const reference = { projectId: job.projectId, jobId: job.jobId, location: job.location };
    if (job.pendingPolls > 0 && !job.cancelled) {
      job.pendingPolls--;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return send(res, 200, { kind: 'bigquery#getQueryResultsResponse', jobReference: reference, jobComplete: false });
    }
    if (job.state === 'RUNNING') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([job.done, new Promise((resolve) => (timer = setTimeout(resolve, LONG_POLL_MS)))]);
      clearTimeout(timer);
      if (job.state === 'RUNNING')
        return send(res, 200, { kind: 'bigquery#getQueryResultsResponse', jobReference: reference, jobComplete: false });
    }
    if (job.error) return send(res, job.error.code, errorBody(job.error));
    const fields = job.result.schema ?? [];
    const all = job.result.rows ?? [];
    const micros = qs.get('formatOptions.useInt64Timestamp') === 'true';
    const start = Number(qs.get('pageToken') ?? '0');
    const end = this.pageSize === undefined ? all.length : Math.min(all.length, start + this.pageSize);
    const body: Record<string, unknown> = {
      kind: 'bigquery#getQueryResultsResponse',
      jobReference: reference,
      jobComplete: true,
      totalRows: String(all.length),
      cacheHit: false,
    };
    if (job.result.schema) body.schema = { fields };
    if (all.length > 0) body.rows = all.slice(start, end).map((row) => encodeRow(fields, row, micros));
    if (end < all.length) body.pageToken = String(end);
    if (job.result.affectedRows !== undefined) body.numDmlAffectedRows = String(job.result.affectedRows);
    if (job.warnings.length > 0) body.errors = job.warnings.map((w) => ({ reason: w.reason, message: w.message }));
    send(res, 200, body);
  }

  private jobsGet(res: ServerResponse, path: string): void {
    const job = this.job(path);
    if (!job) return this.notFound(res, path);
    send(res, 200, this.resource(job));
  }

  private jobsList(res: ServerResponse, qs: URLSearchParams): void {
    const parent = qs.get('parentJobId');
    const jobs = [...this.jobs.values()]
      .filter((j) => (parent ? j.parentJobId === parent : j.parentJobId === undefined))
      .sort((a, b) => b.created - a.created);
    send(res, 200, { kind: 'bigquery#jobList', jobs: jobs.map((j) => this.resource(j)) });
  }

  private jobsCancel(res: ServerResponse, path: string): void {
    const job = this.job(path);
    if (!job) return this.notFound(res, path);
    job.cancelled = true;
    job.wake?.();
    send(res, 200, { kind: 'bigquery#jobCancelResponse', job: this.resource(job) });
  }

  private async insertAll(res: ServerResponse, path: string, body: unknown): Promise<void> {
    const m = /^\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)\/insertAll$/.exec(path);
    const table = m ? `${m[1]}.${m[2]}.${m[3]}` : path;
    const b = body as { rows?: Array<{ insertId?: string; json: Record<string, unknown> }>; skipInvalidRows?: boolean };
    const rows = b.rows ?? [];
    const errors = this.insertHandler(table, rows) ?? [];
    const failed = new Set(errors.map((e) => e.index));
    let insertErrors = errors;
    let keep = rows.filter((_, i) => !failed.has(i));
    if (!b.skipInvalidRows && errors.some((e) => e.errors.some((x) => x.reason === 'invalid'))) {
      insertErrors = [
        ...errors,
        ...rows.flatMap((_, i) => (failed.has(i) ? [] : [{ index: i, errors: [{ reason: 'stopped', message: '' }] }])),
      ];
      keep = [];
    }
    const stored = this.tables.get(table) ?? [];
    const fresh: typeof keep = [];
    for (const row of keep) {
      // insertId dedupe (see dedupeInsertIds).
      if (
        this.dedupeInsertIds &&
        row.insertId !== undefined &&
        (stored.some((s) => s.insertId === row.insertId) || fresh.some((s) => s.insertId === row.insertId))
      )
        continue;
      fresh.push(row);
    }
    if (this.engineState && fresh.length > 0) {
      try {
        await this.engineState.store(table, fresh);
      } catch (err) {
        const reason = /Not found: Table/.test(errorMessage(err)) ? 'notFound' : 'invalid';
        return send(res, 200, {
          kind: 'bigquery#tableDataInsertAllResponse',
          insertErrors: rows.map((_, index) => ({ index, errors: [{ reason, message: errorMessage(err) }] })),
        });
      }
    }
    stored.push(...fresh);
    this.tables.set(table, stored);
    send(
      res,
      200,
      insertErrors.length > 0
        ? { kind: 'bigquery#tableDataInsertAllResponse', insertErrors }
        : { kind: 'bigquery#tableDataInsertAllResponse' },
    );
  }
}

function kindOf(method: string, path: string): RequestKind {
  if (method === 'POST' && /^\/projects\/[^/]+\/jobs$/.test(path)) return 'jobs.insert';
  if (method === 'GET' && /^\/projects\/[^/]+\/queries\/[^/]+$/.test(path)) return 'jobs.getQueryResults';
  if (method === 'GET' && /^\/projects\/[^/]+\/jobs\/[^/]+$/.test(path)) return 'jobs.get';
  if (method === 'GET' && /^\/projects\/[^/]+\/jobs$/.test(path)) return 'jobs.list';
  if (method === 'POST' && /^\/projects\/[^/]+\/jobs\/[^/]+\/cancel$/.test(path)) return 'jobs.cancel';
  if (method === 'POST' && /\/insertAll$/.test(path)) return 'tabledata.insertAll';
  return 'unknown';
}

const projectOf = (path: string): string => /^\/projects\/([^/]+)/.exec(path)?.[1] ?? 'unknown';

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function errorBody(e: FakeError): unknown {
  return { error: { code: e.code, message: e.message, errors: [{ reason: e.reason, message: e.message, domain: 'global' }] } };
}

/** Splits a script on `;` that ends a line (or the text), with each statement's one-based start line. */
function splitScript(sql: string): Array<{ sql: string; line: number }> {
  const out: Array<{ sql: string; line: number }> = [];
  const re = /;[ \t]*(?:\n|$)/g;
  let from = 0;
  for (let m = re.exec(sql); m !== null; m = re.exec(sql)) {
    push(sql.slice(from, m.index), from);
    from = m.index + m[0].length;
    if (m[0].length === 0) re.lastIndex++;
  }
  push(sql.slice(from), from);
  return out;

  function push(piece: string, offset: number): void {
    const lead = piece.length - piece.trimStart().length;
    const text = piece.trim();
    if (text === '') return;
    out.push({ sql: text, line: sql.slice(0, offset + lead).split('\n').length });
  }
}

function statementTypeOf(sql: string): string {
  const word = /^\s*(\w+)(?:\s+(\w+))?/.exec(sql);
  const first = (word?.[1] ?? '').toUpperCase();
  if (first === 'WITH') return 'SELECT';
  if (first === 'CREATE' || first === 'ALTER' || first === 'DROP') return `${first}_${(word?.[2] ?? '').toUpperCase()}`;
  return first;
}

function encodeRow(fields: readonly FakeField[], row: Record<string, unknown>, micros: boolean): { f: Array<{ v: unknown }> } {
  return { f: fields.map((f) => ({ v: encodeCell(f, row[f.name], micros) })) };
}

function encodeCell(field: FakeField, v: unknown, micros: boolean): unknown {
  if (field.mode === 'REPEATED')
    return ((v as unknown[] | null | undefined) ?? []).map((item) => ({ v: encodeScalar(field, item, micros) }));
  return encodeScalar(field, v, micros);
}

function encodeScalar(field: FakeField, v: unknown, micros: boolean): unknown {
  if (v === null || v === undefined) return null;
  switch (field.type) {
    case 'RECORD':
    case 'STRUCT':
      return encodeRow(field.fields ?? [], v as Record<string, unknown>, micros);
    case 'BOOL':
    case 'BOOLEAN':
      return v ? 'true' : 'false';
    case 'TIMESTAMP': {
      const text = String(v);
      const ms = Date.parse(text);
      if (Number.isNaN(ms)) throw new Error(`fake: bad TIMESTAMP ${text}`);
      const sub = /\.\d{3}(\d{1,3})/.exec(text)?.[1] ?? '';
      const us = BigInt(ms) * 1000n + BigInt(sub.padEnd(3, '0') || '0');
      return micros ? us.toString() : (Number(us) / 1e6).toExponential();
    }
    case 'JSON':
      return typeof v === 'string' ? v : JSON.stringify(v);
    default:
      return String(v);
  }
}
