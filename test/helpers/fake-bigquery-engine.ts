/**
 * The opt-in execution engine of the BigQuery fake (fake-bigquery.ts): the jobs the fake receives run against a real DuckDB
 * database, so the product can be tested through the real BigQuery adapter and client end to end. This module holds what
 * is not job plumbing:
 *  - SQL: the BigQuery adapter's rendering undone — `` `project.<prefix>_dataset.table` `` back to a `{{…}}` table token —
 *    then the project's own `renderDuckDbSql`; the REST queryParameters bound as the port's typed parameters;
 *  - results: DuckDB column types as a BigQuery schema (the fake encodes rows per schema, as BigQuery does);
 *  - insertAll rows stored in the DuckDB tables, and the streaming buffer that can hold them back from queries;
 *  - the tables a running transaction mutates (BigQuery cancels a second transaction that mutates one of them).
 * Only the project's SQL subset is understood (docs/testing.md); DDL and INFORMATION_SCHEMA are not (the tables exist).
 */
import { DuckDBTypeId, ResultReturnType, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import type { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { renderDuckDbSql } from '../../shared/adapters/duckdb/duckdb-sql.js';
import { paramValue, readRows } from '../../shared/adapters/duckdb/duckdb-values.js';
import { ALL_TABLES, type TableDef } from '../../shared/contracts/tables.js';
import type { QueryParam, ScalarType, ScalarValue } from '../../shared/ports/warehouse.js';

export interface EngineField {
  name: string;
  type: string;
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  fields?: EngineField[];
}

export interface EngineResult {
  schema?: EngineField[];
  rows?: Array<Record<string, unknown>>;
  affectedRows?: number;
}

export interface RestParameter {
  parameterType: unknown;
  parameterValue: unknown;
}

export interface InsertAllRowIn {
  insertId?: string;
  json: Record<string, unknown>;
}

/** Which insertAll rows the streaming buffer holds back, and for how long. */
export interface StreamingHoldOptions {
  /** `dataset.table` (a dataset prefix is allowed in front); default: every table. */
  table?: string;
  /** Only rows for which this is true (e.g. one player's). Default: every row. */
  where?: (row: Record<string, unknown>) => boolean;
  /** Rows become visible this long after their insertAll (the engine's clock). Default: until `reveal()`. */
  forMs?: number;
}

export interface StreamingHold {
  /** Rows held back by this hold right now. */
  readonly hiddenRows: number;
  /** Ends the hold: its rows become visible to queries, and later inserts are no longer held back. */
  reveal(): Promise<void>;
}

interface HiddenRow {
  hold: HoldState;
  table: string;
  json: Record<string, unknown>;
  visibleAt: number | null;
}

interface HoldState {
  opts: StreamingHoldOptions;
  active: boolean;
}

/** `` `project.dataset.table` `` as the BigQuery adapter renders a table token. */
const TABLE_PATH = /`([A-Za-z0-9_.:-]+)\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)`/g;

/** The fully qualified tables (`project.dataset.table`) a statement names. */
export function tablesIn(sql: string): string[] {
  return [...new Set([...sql.matchAll(TABLE_PATH)].map((m) => `${m[1]}.${m[2]}.${m[3]}`))];
}

/** The table a mutating DML statement changes (MERGE, UPDATE, DELETE, TRUNCATE), or null (SELECT, INSERT, …). */
export function mutatedTable(sql: string): string | null {
  const m = /^\s*(?:MERGE\s+(?:INTO\s+)?|UPDATE\s+|DELETE\s+(?:FROM\s+)?|TRUNCATE\s+TABLE\s+)`([^`]+)`/i.exec(sql);
  return m ? (m[1] as string) : null;
}

/** BigQuery SQL as the adapter renders it → DuckDB SQL (via the project's own renderer). */
export function toDuckDbSql(sql: string): string {
  if (/INFORMATION_SCHEMA/i.test(sql)) throw new Error('the fake BigQuery engine does not answer INFORMATION_SCHEMA queries');
  const tokens = sql.replace(TABLE_PATH, (_all, _project: string, dataset: string, table: string) => `{{${dataset}.${table}}}`);
  return renderDuckDbSql(tokens);
}

function scalarOf(type: ScalarType, v: unknown): ScalarValue {
  if (v === null || v === undefined) return null;
  const text = String(v);
  switch (type) {
    case 'FLOAT64':
      return Number(text);
    case 'BOOL':
      return text === 'true';
    default:
      return text; // INT64 and NUMERIC bind from their decimal text; DATE, TIMESTAMP, STRING, JSON are text
  }
}

/** A REST query parameter (`{parameterType, parameterValue}`) as the warehouse port's typed parameter. */
export function queryParamOf(p: RestParameter): QueryParam {
  const type = p.parameterType as { type: string; arrayType?: { type: string } };
  const value = (p.parameterValue ?? {}) as { value?: unknown; arrayValues?: Array<{ value?: unknown }> };
  if (type.type === 'ARRAY') {
    const elementType = (type.arrayType?.type ?? 'STRING') as ScalarType;
    return { type: 'ARRAY', elementType, value: (value.arrayValues ?? []).map((v) => scalarOf(elementType, v.value)) };
  }
  return { type: type.type as ScalarType, value: scalarOf(type.type as ScalarType, value.value) };
}

/** A DuckDB result column as the field BigQuery would report. */
// eslint-disable-next-line complexity -- one switch case per DuckDB type, mapped to the BigQuery field it stands for
function fieldOf(name: string, t: DuckDBType): EngineField {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { name, type: 'BOOLEAN' };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
      return { name, type: 'INTEGER' };
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { name, type: 'FLOAT' };
    case DuckDBTypeId.DECIMAL:
      return { name, type: 'NUMERIC' };
    case DuckDBTypeId.DATE:
      return { name, type: 'DATE' };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return { name, type: 'TIMESTAMP' };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return { ...fieldOf(name, t.valueType), mode: 'REPEATED' };
    case DuckDBTypeId.STRUCT:
      return { name, type: 'RECORD', fields: t.entryNames.map((n, i) => fieldOf(n, t.entryTypes[i] as DuckDBType)) };
    default:
      return { name, type: 'STRING' };
  }
}

/** The table definition and dataset prefix of an insertAll target (`project.<prefix>_dataset.table`). */
function tableOf(fullName: string): { def: TableDef; prefix: string | undefined } {
  const [, dataset = '', table = ''] = fullName.split('.');
  const def = ALL_TABLES.find((t) => t.name === table && (dataset === t.dataset || dataset.endsWith(`_${t.dataset}`)));
  if (!def) throw new Error(`Not found: Table ${fullName}`);
  const prefix = dataset === def.dataset ? undefined : dataset.slice(0, dataset.length - def.dataset.length - 1);
  return { def, prefix };
}

export class FakeBigQueryEngine {
  private readonly hidden: HiddenRow[] = [];
  private readonly holds: HoldState[] = [];
  /** Mutated table → the transaction (job id) that holds it until it ends. */
  private readonly claims = new Map<string, { jobId: string; released: Promise<void>; release: () => void }>();

  constructor(
    readonly warehouse: DuckDbWarehouse,
    readonly now: () => number = Date.now,
  ) {}

  withConnection<T>(work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.warehouse.db.withConnection(work);
  }

  /** Runs one statement of the BigQuery dialect on `conn` with the job's REST parameters. */
  async execute(conn: DuckDBConnection, sql: string, params: Record<string, RestParameter>): Promise<EngineResult> {
    const prepared = await conn.prepare(toDuckDbSql(sql));
    try {
      for (let i = 1; i <= prepared.parameterCount; i++) {
        const name = prepared.parameterName(i);
        const p = params[name];
        if (p === undefined) throw new Error(`Query parameter '${name}' not found`);
        const bound = paramValue(queryParamOf(p));
        prepared.bindValue(i, bound.value, bound.type);
      }
      const reader = await prepared.runAndReadAll();
      if (reader.returnType === ResultReturnType.CHANGED_ROWS) return { affectedRows: reader.rowsChanged };
      const names = reader.columnNames();
      const types = reader.columnTypes();
      return { schema: names.map((n, i) => fieldOf(n, types[i] as DuckDBType)), rows: readRows(reader) };
    } finally {
      prepared.destroySync();
    }
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Streaming buffer

  /**
   * BigQuery's streaming buffer as queries see it: rows streamed with insertAll may be unavailable for a while — "the first
   * time a streaming insert occurs, the streamed data is inaccessible for a warm-up period of up to two minutes", again
   * "after several hours of inactivity" (https://cloud.google.com/bigquery/docs/streaming-data-into-bigquery#dataavailability).
   * From now on, matching insertAll rows are accepted (and deduplicated) but kept out of the DuckDB table until `forMs`
   * has passed or `reveal()` is called; a query that reads the table meanwhile succeeds on what is visible and carries a
   * warning (see hiddenWarnings).
   */
  hideStreamedRows(opts: StreamingHoldOptions = {}): StreamingHold {
    const hold: HoldState = { opts, active: true };
    this.holds.push(hold);
    const rows = this.hidden;
    return {
      get hiddenRows() {
        return rows.filter((r) => r.hold === hold).length;
      },
      reveal: async () => {
        hold.active = false;
        await this.flush((r) => r.hold === hold);
      },
    };
  }

  /** Stores insertAll rows (already deduplicated by insertId): into the DuckDB table, or into the streaming buffer. */
  async store(table: string, rows: readonly InsertAllRowIn[]): Promise<void> {
    await this.flushDue();
    const visible: Array<Record<string, unknown>> = [];
    for (const row of rows) {
      const hold = this.holds.find((h) => h.active && matchesTable(table, h.opts.table) && (h.opts.where?.(row.json) ?? true));
      if (hold)
        this.hidden.push({ hold, table, json: row.json, visibleAt: hold.opts.forMs === undefined ? null : this.now() + hold.opts.forMs });
      else visible.push(row.json);
    }
    await this.insertRows(table, visible);
  }

  /** Rows whose time in the buffer is over become visible; called before each job runs. */
  flushDue(): Promise<void> {
    const now = this.now();
    return this.flush((r) => r.visibleAt !== null && r.visibleAt <= now);
  }

  /**
   * The warning a job carries while a table it reads has rows held in the streaming buffer. BigQuery reports such
   * conditions beside a successful result in the job's `errors` ("the first errors or warnings encountered during the
   * running of the job", https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/getQueryResults#response-body);
   * the wording is this fake's.
   */
  hiddenWarnings(sql: string): Array<{ reason: string; message: string }> {
    return tablesIn(sql)
      .filter((t) => this.hidden.some((r) => r.table === t))
      .map((t) => ({
        reason: 'streamingBuffer',
        message: `Table ${t.replace('.', ':')}: buffered data may be temporarily unavailable to this query (streaming buffer)`,
      }));
  }

  private async flush(which: (r: HiddenRow) => boolean): Promise<void> {
    const due = this.hidden.filter(which);
    if (due.length === 0) return;
    for (const r of due) this.hidden.splice(this.hidden.indexOf(r), 1);
    const byTable = new Map<string, Array<Record<string, unknown>>>();
    for (const r of due) byTable.set(r.table, [...(byTable.get(r.table) ?? []), r.json]);
    for (const [table, rows] of byTable) await this.insertRows(table, rows);
  }

  private async insertRows(table: string, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    if (rows.length === 0) return;
    const { def, prefix } = tableOf(table);
    await this.warehouse.insert({
      name: 'fake-bigquery.insertAll',
      table: `${def.dataset}.${def.name}`,
      rows: rows as never,
      ...(prefix ? { datasetPrefix: prefix } : {}),
    });
  }

  // -------------------------------------------------------------------------------------------------------------------
  // Transactions

  /**
   * Claims `table` for the transaction `jobId` until it ends. "If a transaction mutates (update or deletes) rows in a table,
   * then other transactions or DML statements that mutate rows in the same table cannot run concurrently. Conflicting
   * transactions are cancelled." (https://cloud.google.com/bigquery/docs/transactions#transaction_concurrency). Returns the
   * job id of the transaction that already holds it (then this one is to be cancelled), or null.
   */
  claim(table: string, jobId: string): string | null {
    const held = this.claims.get(table);
    if (held) return held.jobId === jobId ? null : held.jobId;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    this.claims.set(table, { jobId, released, release });
    return null;
  }

  /** The transaction ended (committed or rolled back): its tables are free. */
  releaseClaims(jobId: string): void {
    for (const [table, c] of [...this.claims]) {
      if (c.jobId !== jobId) continue;
      this.claims.delete(table);
      c.release();
    }
  }

  /** "Conflicting DML statements that run outside of a transaction are queued to run later": waits until `table` is free. */
  async waitUntilFree(table: string): Promise<void> {
    for (let c = this.claims.get(table); c; c = this.claims.get(table)) await c.released;
  }
}

function matchesTable(fullName: string, wanted: string | undefined): boolean {
  if (wanted === undefined) return true;
  const datasetTable = fullName.slice(fullName.indexOf('.') + 1);
  return datasetTable === wanted || datasetTable.endsWith(`_${wanted}`);
}
