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

export type QueryParam =
  | { type: ScalarType; value: ScalarValue }
  | { type: 'ARRAY'; elementType: ScalarType; value: ScalarValue[] };

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

export interface Warehouse {
  query(q: Query): Promise<Row[]>;
  insert(req: InsertRequest): Promise<void>;
  /** Runs the statements in one transaction: all take effect, or none. */
  transaction(name: string, statements: Query[]): Promise<StatementResult[]>;
  close(): Promise<void>;
}

/** Typed parameter constructors, so call sites never hand-write type tags. */
export const param = {
  string: (value: string | null): QueryParam => ({ type: 'STRING', value }),
  int: (value: number | null): QueryParam => ({ type: 'INT64', value }),
  float: (value: number | null): QueryParam => ({ type: 'FLOAT64', value }),
  bool: (value: boolean | null): QueryParam => ({ type: 'BOOL', value }),
  date: (value: string | null): QueryParam => ({ type: 'DATE', value }),
  timestamp: (value: string | null): QueryParam => ({ type: 'TIMESTAMP', value }),
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
