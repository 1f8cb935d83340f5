/**
 * Warehouse port: parameterised queries, appends and transactions.
 *
 * SQL is written once, in the BigQuery dialect, with two conventions the adapters render per engine:
 *  - tables are written as `{{dataset.table}}` (e.g. `{{nba_raw.odds_api_player_points_props}}`); the adapter resolves the
 *    dataset with the query's `datasetPrefix` (`<prefix>_<dataset>`) and quotes it for its engine;
 *  - parameters are `@name`; list membership is written `IN UNNEST(@name)`.
 * Every parameter carries an explicit type (BigQuery needs types for arrays and nulls).
 * Rows come back as plain JSON values: numbers, strings (DATE as `YYYY-MM-DD`, TIMESTAMP as ISO-8601), booleans, null, arrays.
 */

export type ScalarType = 'STRING' | 'INT64' | 'FLOAT64' | 'NUMERIC' | 'BOOL' | 'DATE' | 'TIMESTAMP' | 'JSON';

export type ScalarValue = string | number | boolean | null;

export type QueryParam = { type: ScalarType; value: ScalarValue } | { type: 'ARRAY'; elementType: ScalarType; value: ScalarValue[] };

export type PlainValue = ScalarValue | PlainValue[] | { [key: string]: PlainValue };
export type Row = Record<string, PlainValue>;

export interface Query {
  /** Short name of the step, used in logs, errors and the query log (e.g. `lines.odds_api`). */
  name: string;
  sql: string;
  params?: Record<string, QueryParam>;
  /** Isolates the query: every `{{dataset.table}}` resolves to `<prefix>_<dataset>.table`. */
  datasetPrefix?: string;
  /**
   * Labels for the job that runs the query (cost attribution, e.g. `{batch_id: …}`), merged over the adapter's own. Keys
   * follow BigQuery's label rules (lower case, start with a letter, ≤ 63 of [a-z0-9_-]); values are sanitised to them.
   * In a transaction the statements' labels are merged (a key given two different values is an error). DuckDB ignores them.
   */
  labels?: Record<string, string>;
}

export interface InsertRequest {
  name: string;
  /** `dataset.table`, resolved with the prefix like a query's tables. */
  table: string;
  rows: Row[];
  datasetPrefix?: string;
  /**
   * Columns whose values identify a row across redeliveries of the same write (e.g. a deterministic `prediction_id`).
   * BigQuery builds each row's insertAll `insertId` from them, so a redelivered write is deduplicated (best effort, about a
   * minute); without them the ids are random per call (an adapter's own retries still dedupe). Every row must have a
   * non-null value in each id column. DuckDB ignores them.
   */
  idColumns?: readonly string[];
}

export interface StatementResult {
  /** Rows inserted, updated or deleted by a DML statement; 0 for other statements. */
  affectedRows: number;
  rows: Row[];
}

export interface QueryResult {
  rows: Row[];
  /**
   * What the engine reported beside a successful result: BigQuery's job `status.errors` on a job without `errorResult`
   * (e.g. "buffered data may be temporarily unavailable"). DuckDB never reports any.
   */
  warnings: string[];
}

export interface TransactionResult {
  statements: StatementResult[];
  /** Warnings of the transaction's job and of each statement, in order (see QueryResult.warnings). */
  warnings: string[];
}

export interface Warehouse {
  query(q: Query): Promise<Row[]>;
  /** A query whose warnings matter to the caller (consolidation's staging counts): rows and warnings. */
  queryWithWarnings(q: Query): Promise<QueryResult>;
  insert(req: InsertRequest): Promise<void>;
  /** Runs the statements in one transaction: all take effect, or none. */
  transaction(name: string, statements: Query[]): Promise<TransactionResult>;
  close(): Promise<void>;
}

export type WarehouseErrorCode =
  /** A query or job failed; `retryable` says whether the failure was transient (then the adapter's attempts ran out). */
  | 'QUERY_FAILED'
  /** A table or dataset the statement names does not exist (e.g. a dataset prefix with no tables). */
  | 'NOT_FOUND'
  /** A concurrent transaction on the same table won (BigQuery cancels one of two overlapping ones; DuckDB's write conflict). */
  | 'TRANSACTION_CONFLICT'
  /** The request is wrong before it is sent: a value that does not fit its column, an unknown column, a bad label key. */
  | 'INVALID_INPUT'
  /** The engine rejected rows of an append (per-row reasons in the message; `rejectedRows` names them). */
  | 'INSERT_REJECTED'
  /** The job did not finish within the client's timeout (it was asked to cancel). */
  | 'TIMEOUT'
  /** The transaction committed, but its per-statement results could not be read. */
  | 'RESULT_UNKNOWN'
  | 'CLOSED';

export interface WarehouseErrorDetails {
  /** Decided by the adapter from what the engine reported: worth another attempt later (a 5xx on a push), or not. */
  retryable: boolean;
  attempts?: number;
  /** The engine's own reasons (BigQuery: `invalidQuery`, `backendError`, …). */
  reasons?: string[];
  jobId?: string;
  /** INSERT_REJECTED: indices of the rows the engine refused (into the request's rows). */
  rejectedRows?: number[];
  cause?: unknown;
}

/** The one error every Warehouse adapter throws. The message starts with the query's name. */
export class WarehouseError extends Error {
  readonly code: WarehouseErrorCode;
  /** The `name` of the query, insert or transaction that failed. */
  readonly queryName: string;
  readonly retryable: boolean;
  readonly attempts: number;
  readonly reasons: string[];
  readonly jobId: string | undefined;
  readonly rejectedRows: number[];

  constructor(queryName: string, message: string, code: WarehouseErrorCode, details: WarehouseErrorDetails) {
    super(`${queryName}: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WarehouseError';
    this.code = code;
    this.queryName = queryName;
    this.retryable = details.retryable;
    this.attempts = details.attempts ?? 1;
    this.reasons = details.reasons ?? [];
    this.jobId = details.jobId;
    this.rejectedRows = details.rejectedRows ?? [];
  }
}

export type WarehouseCall =
  | { kind: 'query'; name: string; query: Query; withWarnings: boolean }
  | { kind: 'insert'; name: string; insert: InsertRequest }
  | { kind: 'transaction'; name: string; statements: Query[] };

/**
 * A warehouse that passes every call to `inner` through `around` — the one decorator behind query counting, query logs and
 * the tests' fault injection. `around` calls `next()` to run the call (or not, to fail it).
 */
export function interceptWarehouse(inner: Warehouse, around: <T>(call: WarehouseCall, next: () => Promise<T>) => Promise<T>): Warehouse {
  return {
    query: (q) => around({ kind: 'query', name: q.name, query: q, withWarnings: false }, () => inner.query(q)),
    queryWithWarnings: (q) => around({ kind: 'query', name: q.name, query: q, withWarnings: true }, () => inner.queryWithWarnings(q)),
    insert: (req) => around({ kind: 'insert', name: req.name, insert: req }, () => inner.insert(req)),
    transaction: (name, statements) => around({ kind: 'transaction', name, statements }, () => inner.transaction(name, statements)),
    close: () => inner.close(),
  };
}

/** Typed parameter constructors, so call sites never hand-write type tags. */
export const param = {
  string: (value: string | null): QueryParam => ({ type: 'STRING', value }),
  int: (value: number | null): QueryParam => ({ type: 'INT64', value }),
  float: (value: number | null): QueryParam => ({ type: 'FLOAT64', value }),
  bool: (value: boolean | null): QueryParam => ({ type: 'BOOL', value }),
  date: (value: string | null): QueryParam => ({ type: 'DATE', value }),
  timestamp: (value: string | null): QueryParam => ({ type: 'TIMESTAMP', value }),
  /** JSON text (BigQuery's JSON type; DuckDB stores it as text). */
  json: (value: string | null): QueryParam => ({ type: 'JSON', value }),
  strings: (value: readonly string[]): QueryParam => ({ type: 'ARRAY', elementType: 'STRING', value: [...value] }),
  ints: (value: readonly number[]): QueryParam => ({ type: 'ARRAY', elementType: 'INT64', value: [...value] }),
};

const TABLE_TOKEN = /\{\{\s*([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\s*\}\}/gi;

/** The `dataset.table` names a query refers to, before prefixing. */
export function tablesOf(sql: string): string[] {
  return [...sql.matchAll(TABLE_TOKEN)].map((m) => `${m[1]}.${m[2]}`);
}

/** Replaces each `{{dataset.table}}` token with what `render(dataset, table)` returns. */
export function renderTables(sql: string, render: (dataset: string, table: string) => string): string {
  return sql.replace(TABLE_TOKEN, (_all, dataset: string, table: string) => render(dataset, table));
}

export const DATASET_PREFIX_PATTERN = /^[a-z][a-z0-9_]{0,29}$/;

/** `nba_raw` with prefix `test1` → `test1_nba_raw`. The prefix must already be validated. */
export function prefixedDataset(dataset: string, prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return dataset;
  if (!DATASET_PREFIX_PATTERN.test(prefix)) throw new Error(`invalid dataset prefix '${prefix}'`);
  return `${prefix}_${dataset}`;
}
