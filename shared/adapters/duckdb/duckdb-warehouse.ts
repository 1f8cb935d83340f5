/**
 * Warehouse port over embedded DuckDB (`@duckdb/node-api`): a file or `:memory:`.
 *
 * - SQL is the project's BigQuery subset, rendered by `renderDuckDbSql`; parameters are bound with explicit DuckDB types
 *   from their QueryParam tags (ARRAY → LIST of the element type, NUMERIC → DECIMAL(38,9), nulls typed).
 * - Rows leave as plain JSON values: DECIMAL and BIGINT/HUGEINT → number (an integer beyond Number.MAX_SAFE_INTEGER throws),
 *   DATE → 'YYYY-MM-DD', TIMESTAMP → ISO-8601 with 'Z', lists → arrays, structs → objects; JSON columns stay JSON text.
 *   A DML statement returns no rows (its count is `affectedRows` in a transaction), as on BigQuery.
 * - insert() converts values by the table's column types (contracts/tables.ts) and appends whole data chunks through an
 *   Appender inside one transaction: all rows land, or none. A repeated column given null/nothing stores [] (BigQuery's rule).
 * - Every operation takes its own connection from a small pool; a transaction holds its connection alone until it ends.
 * - Errors are `WarehouseError`s whose message starts with the query's name; write-write conflicts carry
 *   `code: 'TRANSACTION_CONFLICT'` so callers can retry.
 */
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBArrayValue,
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  LIST,
  ResultReturnType,
  TIMESTAMP,
  VARCHAR,
  type DuckDBResultReader,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { ALL_TABLES, findTable, type Column, type TableDef } from '../../contracts/tables.js';
import {
  DATASET_PREFIX_PATTERN,
  prefixedDataset,
  type InsertRequest,
  type PlainValue,
  type Query,
  type QueryParam,
  type Row,
  type ScalarType,
  type StatementResult,
  type Warehouse,
} from '../../ports/warehouse.js';
import { duckDbColumnType, duckDbTableName, quoteDuckDbIdent, renderDuckDbDdl } from './duckdb-ddl.js';
import { renderDuckDbSql } from './duckdb-sql.js';

export type WarehouseErrorCode = 'TRANSACTION_CONFLICT' | 'QUERY_FAILED' | 'INVALID_INPUT' | 'CLOSED';

export class WarehouseError extends Error {
  readonly code: WarehouseErrorCode;
  /** The `name` of the query, insert or transaction that failed. */
  readonly queryName: string;
  constructor(queryName: string, message: string, code: WarehouseErrorCode, options?: { cause?: unknown }) {
    super(`${queryName}: ${message}`, options);
    this.name = 'WarehouseError';
    this.code = code;
    this.queryName = queryName;
  }
}

export interface DuckDbWarehouseOptions {
  /** A database file, or ':memory:'. */
  path: string;
  /** Sleeps this long before each query, insert and transaction: stands for BigQuery's per-job overhead. Default 0. */
  simulatedRoundTripMs?: number;
  /** Idle connections kept for reuse. Default 8. */
  maxIdleConnections?: number;
}

const CHUNK_ROWS = 2048;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MS_PER_DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------------------------------
// JS → DuckDB values

const SCALAR_TYPES: Readonly<Record<ScalarType, DuckDBType>> = {
  STRING: VARCHAR,
  INT64: BIGINT,
  FLOAT64: DOUBLE,
  NUMERIC: DECIMAL(38, 9),
  BOOL: BOOLEAN,
  DATE: DATE,
  TIMESTAMP: TIMESTAMP,
  JSON: VARCHAR,
};

const describe = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v));

/** Scales a decimal string or number to an integer with `scale` fractional digits, rounding half away from zero. */
function scaleDecimal(v: number | string, precision: number, scale: number): bigint {
  let text: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${v} is not a NUMERIC value`);
    if (Math.abs(v) >= 1e21) throw new Error(`${v} is out of range for NUMERIC(${precision},${scale})`);
    // The shortest decimal that is `v` (27.349), not toFixed(scale + 1) (27.35, which then rounded twice to 27.4).
    const plain = String(v);
    const m = /^(-?)(\d)(?:\.(\d+))?e-(\d+)$/.exec(plain);
    text = m ? `${m[1]}0.${'0'.repeat(Number(m[4]) - 1)}${m[2]}${m[3] ?? ''}` : plain;
  } else {
    text = v.trim();
  }
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`${describe(v)} is not a NUMERIC value`);
  const negative = m[1] === '-';
  const intPart = m[2] || '0';
  const frac = m[3] ?? '';
  let scaled = BigInt(intPart + frac.slice(0, scale).padEnd(scale, '0'));
  const firstDropped = frac[scale];
  if (firstDropped !== undefined && firstDropped >= '5') scaled += 1n;
  if (scaled >= 10n ** BigInt(precision)) throw new Error(`${describe(v)} is out of range for NUMERIC(${precision},${scale})`);
  return negative ? -scaled : scaled;
}

function parseDate(v: string): DuckDBDateValue {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) throw new Error(`${describe(v)} is not a DATE (expected YYYY-MM-DD)`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new Error(`${describe(v)} is not a valid DATE`);
  }
  return new DuckDBDateValue(Math.round(ms / MS_PER_DAY));
}

const TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i;

/** ISO-8601 (or BigQuery's 'YYYY-MM-DD HH:MM:SS[.ffffff][+zz:zz]') → micros since the epoch, UTC; no zone means UTC. */
function parseTimestamp(v: string): DuckDBTimestampValue {
  const m = TIMESTAMP_PATTERN.exec(v.trim());
  if (!m) throw new Error(`${describe(v)} is not a TIMESTAMP (expected ISO-8601)`);
  const num = (i: number): number => Number(m[i] ?? '0');
  const ms = Date.UTC(num(1), num(2) - 1, num(3), num(4), num(5), num(6));
  if (Number.isNaN(ms) || num(2) > 12 || num(3) > 31 || num(4) > 23 || num(5) > 59 || num(6) > 60) {
    throw new Error(`${describe(v)} is not a valid TIMESTAMP`);
  }
  const micros = BigInt((m[7] ?? '').slice(0, 6).padEnd(6, '0'));
  let offsetMinutes = 0;
  const zone = m[8]?.toUpperCase();
  if (zone && zone !== 'Z' && zone !== 'UTC') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) throw new Error(`${describe(v)} has an invalid zone`);
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? '0'));
  }
  return new DuckDBTimestampValue(BigInt(ms - offsetMinutes * 60_000) * 1000n + micros);
}

/** Converts one scalar to its DuckDB value for `type`. `numeric` is [precision, scale] for NUMERIC. */
function toDuckScalar(type: ScalarType, v: PlainValue | undefined, numeric: readonly [number, number]): DuckDBValue {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'STRING':
      if (typeof v === 'string') return v;
      break;
    case 'JSON':
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'INT64':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
      if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return BigInt(v.trim());
      break;
    case 'FLOAT64':
      if (typeof v === 'number') return v;
      break;
    case 'NUMERIC':
      if (typeof v === 'number' || typeof v === 'string') return new DuckDBDecimalValue(scaleDecimal(v, numeric[0], numeric[1]), numeric[0], numeric[1]);
      break;
    case 'BOOL':
      if (typeof v === 'boolean') return v;
      break;
    case 'DATE':
      if (typeof v === 'string') return parseDate(v);
      break;
    case 'TIMESTAMP':
      if (typeof v === 'string') return parseTimestamp(v);
      break;
  }
  throw new Error(`${describe(v)} is not a valid ${type} value`);
}

const DEFAULT_NUMERIC = [38, 9] as const;

function paramValue(p: QueryParam): { value: DuckDBValue; type: DuckDBType } {
  if (p.type === 'ARRAY') {
    if (!Array.isArray(p.value)) throw new Error('an ARRAY parameter needs an array value');
    const items = p.value.map((item) => {
      if (item === null) throw new Error('an ARRAY parameter may not contain NULL (BigQuery rejects it)');
      return toDuckScalar(p.elementType, item, DEFAULT_NUMERIC);
    });
    return { value: new DuckDBListValue(items), type: LIST(SCALAR_TYPES[p.elementType]) };
  }
  return { value: toDuckScalar(p.type, p.value, DEFAULT_NUMERIC), type: SCALAR_TYPES[p.type] };
}

// ---------------------------------------------------------------------------------------------------------------------
// DuckDB → plain values

function safeNumber(v: bigint): number {
  if (v > MAX_SAFE || v < MIN_SAFE) throw new Error(`integer ${v} is beyond Number.MAX_SAFE_INTEGER`);
  return Number(v);
}

function isoFromMicros(micros: bigint): string {
  let ms = micros / 1000n;
  let sub = micros % 1000n;
  if (sub < 0n) {
    ms -= 1n;
    sub += 1000n;
  }
  const iso = new Date(Number(ms)).toISOString();
  return sub === 0n ? iso : `${iso.slice(0, -1)}${sub.toString().padStart(3, '0')}Z`;
}

function dateString(days: number): string {
  return new Date(days * MS_PER_DAY).toISOString().slice(0, 10);
}

function toPlain(v: DuckDBValue): PlainValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return safeNumber(v);
  if (v instanceof DuckDBDecimalValue) return Number(v.toString());
  if (v instanceof DuckDBDateValue) return v.isFinite ? dateString(v.days) : v.toString();
  if (v instanceof DuckDBTimestampValue || v instanceof DuckDBTimestampTZValue) return v.isFinite ? isoFromMicros(v.micros) : v.toString();
  if (v instanceof DuckDBTimestampMillisecondsValue) return isoFromMicros(v.millis * 1000n);
  if (v instanceof DuckDBTimestampSecondsValue) return isoFromMicros(v.seconds * 1_000_000n);
  if (v instanceof DuckDBTimestampNanosecondsValue) return isoFromMicros(v.nanos / 1000n);
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(toPlain);
  if (v instanceof DuckDBStructValue) {
    const out: Record<string, PlainValue> = {};
    for (const [k, item] of Object.entries(v.entries)) out[k] = toPlain(item);
    return out;
  }
  if (v instanceof DuckDBMapValue) {
    const out: Record<string, PlainValue> = {};
    for (const e of v.entries) out[String(toPlain(e.key))] = toPlain(e.value);
    return out;
  }
  return v.toString();
}

function readRows(reader: DuckDBResultReader): Row[] {
  const names = reader.columnNames();
  return reader.getRows().map((values) => {
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i] as string] = toPlain(values[i] ?? null);
    return row;
  });
}

// ---------------------------------------------------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isConflict(err: unknown): boolean {
  return /conflict/i.test(errorMessage(err));
}

/** Wraps anything thrown into a WarehouseError naming the operation (kept as is when it already is one). */
function wrapError(name: string, err: unknown): WarehouseError {
  if (err instanceof WarehouseError) return err;
  if (isConflict(err)) return new WarehouseError(name, `transaction conflict, retry: ${errorMessage(err)}`, 'TRANSACTION_CONFLICT', { cause: err });
  return new WarehouseError(name, errorMessage(err), 'QUERY_FAILED', { cause: err });
}

export class DuckDbWarehouse implements Warehouse {
  private readonly idle: DuckDBConnection[] = [];
  /** Physical column order per `schema.table`; only ensureTables and dropPrefix change tables, and both clear it. */
  private readonly columnOrder = new Map<string, string[]>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly path: string,
    private readonly roundTripMs: number,
    private readonly maxIdle: number,
  ) {}

  static async open(opts: DuckDbWarehouseOptions): Promise<DuckDbWarehouse> {
    const instance = await DuckDBInstance.create(opts.path);
    return new DuckDbWarehouse(instance, opts.path, Math.max(0, opts.simulatedRoundTripMs ?? 0), opts.maxIdleConnections ?? 8);
  }

  /**
   * Creates the tables' datasets and tables (IF NOT EXISTS) under the prefix, adds columns an older table lacks, and
   * emulates BigQuery's partition expiry: a table with `partitionExpirationDays` loses the rows whose partition day ended
   * more than that many days ago (so local staging does not grow forever; BigQuery does this itself, continuously).
   */
  async ensureTables(tables: readonly TableDef[], datasetPrefix?: string): Promise<void> {
    const statements = tables.flatMap((t) => renderDuckDbDdl(t, datasetPrefix));
    await this.track('ensureTables', async (conn) => {
      for (const sql of statements) {
        for (let attempt = 1; ; attempt++) {
          try {
            await conn.run(sql);
            break;
          } catch (err) {
            if (!isConflict(err) || attempt >= 5) throw err;
            await sleep(5 * attempt);
          }
        }
      }
      // Additive migration: a column the definition has and an older table lacks is added (nullable), so an existing
      // warehouse file upgrades in place instead of failing every write with "unknown column".
      for (const table of tables) {
        const existing = new Set(await physicalColumns(conn, prefixedDataset(table.dataset, datasetPrefix), table.name));
        for (const col of table.columns) {
          if (existing.has(col.name)) continue;
          await conn.run(`ALTER TABLE ${duckDbTableName(table, datasetPrefix)} ADD COLUMN ${quoteDuckDbIdent(col.name)} ${duckDbColumnType(col)}`);
        }
      }
      for (const table of tables) {
        const expiry = expirySql(table, datasetPrefix, new Date());
        if (expiry) await conn.run(expiry);
      }
      this.columnOrder.clear();
    });
  }

  private async physicalOrder(conn: DuckDBConnection, schema: string, table: string): Promise<string[]> {
    const key = `${schema}.${table}`;
    let order = this.columnOrder.get(key);
    if (!order) {
      order = await physicalColumns(conn, schema, table);
      this.columnOrder.set(key, order);
    }
    return order;
  }

  /** Drops every dataset of the project's tables created under `prefix` (`<prefix>_nba_raw`, …), with its tables. */
  async dropPrefix(prefix: string): Promise<void> {
    if (!DATASET_PREFIX_PATTERN.test(prefix)) throw new WarehouseError('dropPrefix', `invalid dataset prefix '${prefix}'`, 'INVALID_INPUT');
    const datasets = [...new Set(ALL_TABLES.map((t) => prefixedDataset(t.dataset, prefix)))];
    await this.track('dropPrefix', async (conn) => {
      for (const ds of datasets) await conn.run(`DROP SCHEMA IF EXISTS ${quoteDuckDbIdent(ds)} CASCADE`);
      this.columnOrder.clear();
    });
  }

  async query(q: Query): Promise<Row[]> {
    await this.roundTrip();
    return this.track(q.name, async (conn) => (await this.runStatement(conn, q)).rows);
  }

  async insert(req: InsertRequest): Promise<void> {
    await this.roundTrip();
    let table: TableDef;
    let columns: DuckDBValue[][];
    try {
      table = findTable(req.table);
      columns = columnsOf(table, req.rows);
    } catch (err) {
      throw new WarehouseError(req.name, `insert into ${req.table}: ${errorMessage(err)}`, 'INVALID_INPUT', { cause: err });
    }
    if (req.rows.length === 0) return;
    const schema = prefixedDataset(table.dataset, req.datasetPrefix);
    await this.track(req.name, async (conn) => {
      await conn.run('BEGIN TRANSACTION');
      try {
        // The appender writes by position: order the values by the table's physical column order (a migrated table has
        // its added columns at the end, whatever their place in the definition).
        const physical = await this.physicalOrder(conn, schema, table.name);
        const defined = new Map(table.columns.map((c, i) => [c.name, i]));
        const missing = table.columns.filter((c) => !physical.includes(c.name)).map((c) => c.name);
        const extra = physical.filter((name) => !defined.has(name));
        if (missing.length > 0 || extra.length > 0) {
          throw new Error(
            `${schema}.${table.name} does not match the schema definition (missing: ${missing.join(', ') || 'none'}; not in the definition: ${extra.join(', ') || 'none'}): run ensureTables to migrate`,
          );
        }
        columns = physical.map((name) => columns[defined.get(name) as number] as DuckDBValue[]);
        const appender = await conn.createAppender(table.name, schema);
        try {
          const types = physical.map((_, i) => appender.columnType(i));
          const rowCount = req.rows.length;
          for (let start = 0; start < rowCount; start += CHUNK_ROWS) {
            const n = Math.min(CHUNK_ROWS, rowCount - start);
            const chunk = DuckDBDataChunk.create(types, n);
            chunk.setColumns(columns.map((col) => (start === 0 && n === rowCount ? col : col.slice(start, start + n))));
            appender.appendDataChunk(chunk);
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
        await conn.run('COMMIT');
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => undefined);
        throw new Error(`insert into ${schema}.${table.name}: ${errorMessage(err)}`, { cause: err });
      }
    });
  }

  async transaction(name: string, statements: Query[]): Promise<StatementResult[]> {
    await this.roundTrip();
    return this.track(name, async (conn) => {
      await conn.run('BEGIN TRANSACTION');
      try {
        const results: StatementResult[] = [];
        for (const st of statements) {
          try {
            results.push(await this.runStatement(conn, st));
          } catch (err) {
            throw new Error(`statement ${st.name}: ${errorMessage(err)}`, { cause: err });
          }
        }
        await conn.run('COMMIT');
        return results;
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    for (const conn of this.idle.splice(0)) conn.closeSync();
    this.instance.closeSync();
  }

  // -------------------------------------------------------------------------------------------------------------------

  private async roundTrip(): Promise<void> {
    if (this.roundTripMs > 0) await sleep(this.roundTripMs);
  }

  /** Runs `work` on a connection of its own, returns the connection to the pool, and names the operation in any error. */
  private track<T>(name: string, work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new WarehouseError(name, 'the warehouse is closed', 'CLOSED'));
    const op = (async () => {
      const conn = this.idle.pop() ?? (await this.instance.connect());
      let healthy = true;
      try {
        return await work(conn);
      } catch (err) {
        healthy = await this.stillUsable(conn);
        throw wrapError(name, err);
      } finally {
        if (healthy && !this.closed && this.idle.length < this.maxIdle) this.idle.push(conn);
        else conn.closeSync();
      }
    })();
    this.inFlight.add(op);
    const forget = (): void => {
      this.inFlight.delete(op);
    };
    op.then(forget, forget);
    return op;
  }

  /** After a failure: a connection goes back to the pool only if it is not left inside a transaction. */
  private async stillUsable(conn: DuckDBConnection): Promise<boolean> {
    try {
      await conn.run('SELECT 1');
      await conn.run('BEGIN TRANSACTION');
      await conn.run('ROLLBACK');
      return true;
    } catch {
      return false;
    }
  }

  private async runStatement(conn: DuckDBConnection, q: Query): Promise<StatementResult> {
    const sql = renderDuckDbSql(q.sql, q.datasetPrefix);
    const prepared = await conn.prepare(sql);
    try {
      const params = q.params ?? {};
      for (let i = 1; i <= prepared.parameterCount; i++) {
        const pname = prepared.parameterName(i);
        const p = params[pname];
        if (p === undefined) throw new Error(`parameter @${pname} has no value`);
        let bound: { value: DuckDBValue; type: DuckDBType };
        try {
          bound = paramValue(p);
        } catch (err) {
          throw new Error(`parameter @${pname}: ${errorMessage(err)}`, { cause: err });
        }
        prepared.bindValue(i, bound.value, bound.type);
      }
      const reader = await prepared.runAndReadAll();
      if (reader.returnType === ResultReturnType.CHANGED_ROWS) return { affectedRows: reader.rowsChanged, rows: [] };
      return { affectedRows: 0, rows: readRows(reader) };
    } finally {
      prepared.destroySync();
    }
  }
}

type Converter = (v: PlainValue | undefined) => DuckDBValue;

/** A converter for one column's values, with a cache for the DATE/TIMESTAMP strings a batch repeats. */
function converterFor(col: Column): Converter {
  const numeric = col.numeric ?? DEFAULT_NUMERIC;
  let scalar: Converter;
  if (col.type === 'FLOAT64') {
    scalar = (v) => {
      if (typeof v === 'number' || v === null || v === undefined) return v ?? null;
      throw new Error(`${describe(v)} is not a valid FLOAT64 value`);
    };
  } else if (col.type === 'DATE' || col.type === 'TIMESTAMP') {
    const cache = new Map<string, DuckDBValue>();
    scalar = (v) => {
      if (typeof v !== 'string') return toDuckScalar(col.type, v, numeric);
      let hit = cache.get(v);
      if (hit === undefined) {
        hit = toDuckScalar(col.type, v, numeric);
        if (cache.size < 10_000) cache.set(v, hit);
      }
      return hit;
    };
  } else {
    scalar = (v) => {
      if (col.type !== 'JSON' && v !== null && typeof v === 'object') throw new Error(`${describe(v)} is not a ${col.type} value`);
      return toDuckScalar(col.type, v, numeric);
    };
  }
  if (!col.repeated) return scalar;
  return (v) => {
    if (v === null || v === undefined) return new DuckDBListValue([]);
    if (!Array.isArray(v)) throw new Error(`${describe(v)} is not an array`);
    return new DuckDBListValue(
      v.map((item) => {
        if (item === null) throw new Error('arrays may not contain NULL');
        return scalar(item);
      }),
    );
  };
}

/** Column-major DuckDB values for `rows`, converted by the table's column types; a missing column is NULL. */
function columnsOf(table: TableDef, rows: readonly Row[]): DuckDBValue[][] {
  const cols = table.columns;
  const index = new Map(cols.map((c, i) => [c.name, i]));
  const converters = cols.map(converterFor);
  const out = cols.map((c) => new Array<DuckDBValue>(rows.length).fill(c.repeated ? new DuckDBListValue([]) : null));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Row;
    for (const key in row) {
      const i = index.get(key);
      if (i === undefined) throw new Error(`unknown column '${key}' (not in ${table.dataset}.${table.name})`);
      try {
        (out[i] as DuckDBValue[])[r] = (converters[i] as Converter)(row[key]);
      } catch (err) {
        throw new Error(`row ${r}, column '${key}': ${errorMessage(err)}`, { cause: err });
      }
    }
  }
  cols.forEach((col, i) => {
    if (!col.required || col.repeated) return;
    const r = (out[i] as DuckDBValue[]).indexOf(null);
    if (r >= 0) throw new Error(`row ${r}, column '${col.name}': is required (NOT NULL)`);
  });
  return out;
}

/**
 * DELETE of the rows BigQuery would have expired by `now`: a daily partition lives `partitionExpirationDays` past the end of
 * its (UTC) day, so rows whose partition day is before the UTC day of `now − days` are gone. Null for tables without expiry.
 */
export function expirySql(table: TableDef, datasetPrefix: string | undefined, now: Date): string | null {
  if (table.partitionExpirationDays === undefined || table.partitionBy === undefined) return null;
  const col = table.columns.find((c) => c.name === table.partitionBy);
  if (!col || (col.type !== 'DATE' && col.type !== 'TIMESTAMP')) {
    throw new Error(`${table.dataset}.${table.name}: partition column '${table.partitionBy}' must be a DATE or TIMESTAMP column`);
  }
  const cutoffDay = new Date(now.getTime() - table.partitionExpirationDays * MS_PER_DAY).toISOString().slice(0, 10);
  return `DELETE FROM ${duckDbTableName(table, datasetPrefix)} WHERE ${quoteDuckDbIdent(col.name)} < ${col.type} '${cutoffDay}'`;
}

async function physicalColumns(conn: DuckDBConnection, schema: string, table: string): Promise<string[]> {
  const reader = await conn.runAndReadAll(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $schema AND table_name = $table ORDER BY ordinal_position',
    { schema, table },
  );
  return reader.getRowObjectsJson().map((r) => String(r.column_name));
}
