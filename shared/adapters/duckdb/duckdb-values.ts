/**
 * Values between the warehouse port's plain JSON and DuckDB: typed parameters (ARRAY → LIST of the element type, NUMERIC →
 * DECIMAL(38,9), nulls typed), rows out as plain values (DECIMAL and BIGINT/HUGEINT → number, an integer beyond
 * Number.MAX_SAFE_INTEGER throws; DATE → 'YYYY-MM-DD'; TIMESTAMP → ISO-8601 with 'Z'; lists → arrays; structs → objects;
 * JSON columns stay JSON text), and column-major appends converted by the table's column types.
 */
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBArrayValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  LIST,
  TIMESTAMP,
  VARCHAR,
} from './duckdb-api.js';
import type { DuckDBResultReader, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { Column, TableDef } from '../../contracts/tables.js';
import type { PlainValue, QueryParam, Row, ScalarType } from '../../ports/warehouse.js';
import {
  canonicalScalar,
  dateFromEpochDays,
  describeValue,
  epochDays,
  isoFromMicros,
  safeNumber,
  scaledDecimal,
  timestampMicros,
} from '../../values/scalars.js';
import { errorMessage } from '../../errors/error-message.js';

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

const DEFAULT_NUMERIC = [38, 9] as const;

/** Converts one scalar to its DuckDB value for `type`: the shared type check (shared/values/scalars.ts), then DuckDB's form. */
function toDuckScalar(type: ScalarType, v: PlainValue | undefined, numeric: readonly [number, number]): DuckDBValue {
  if (v === null || v === undefined) return null;
  const c = canonicalScalar(type, v, numeric);
  switch (type) {
    case 'INT64':
      return BigInt(c);
    case 'NUMERIC':
      return new DuckDBDecimalValue(scaledDecimal(c as string, numeric[0], numeric[1]), numeric[0], numeric[1]);
    case 'DATE':
      return new DuckDBDateValue(epochDays(c as string));
    case 'TIMESTAMP':
      return new DuckDBTimestampValue(timestampMicros(c as string));
    default:
      return c;
  }
}

export function paramValue(p: QueryParam): { value: DuckDBValue; type: DuckDBType } {
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

// eslint-disable-next-line complexity -- one branch per DuckDB value class, each mapped to its plain JSON form
function toPlain(v: DuckDBValue): PlainValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return safeNumber(v);
  if (v instanceof DuckDBDecimalValue) return Number(v.toString());
  if (v instanceof DuckDBDateValue) return v.isFinite ? dateFromEpochDays(v.days) : v.toString();
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

export function readRows(reader: DuckDBResultReader): Row[] {
  const names = reader.columnNames();
  return reader.getRows().map((values) => {
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i] as string] = toPlain(values[i] ?? null);
    return row;
  });
}

type Converter = (v: PlainValue | undefined) => DuckDBValue;

/** 'YYYY-MM-DDTHH:MM:SS.sssZ' from year 1000 on: Date#toISOString's own form. */
const ISO_MILLIS = /^[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** The decimal number in v[at, at + len) (digits only: ISO_MILLIS has checked them). */
function digits(v: string, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) n = n * 10 + v.charCodeAt(i) - 48;
  return n;
}

/**
 * A TIMESTAMP string's DuckDB value. A string in Date#toISOString's form with every field in range (a real calendar day,
 * hour ≤ 23, minute and second ≤ 59: what timestampMicros accepts) is read field by field — the microseconds the full
 * parse gives it, at a fraction of the cost; anything else takes the full check, and its message.
 */
function timestampValue(v: string, numeric: readonly [number, number]): DuckDBValue {
  if (ISO_MILLIS.test(v)) {
    const y = digits(v, 0, 4);
    const mo = digits(v, 5, 2);
    const d = digits(v, 8, 2);
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const days = mo === 2 && leap ? 29 : (DAYS_IN_MONTH[mo - 1] ?? 0);
    const h = digits(v, 11, 2);
    const mi = digits(v, 14, 2);
    const sec = digits(v, 17, 2);
    if (mo >= 1 && d >= 1 && d <= days && h <= 23 && mi <= 59 && sec <= 59) {
      return new DuckDBTimestampValue(BigInt(Date.UTC(y, mo - 1, d, h, mi, sec, digits(v, 20, 3))) * 1000n);
    }
  }
  return toDuckScalar('TIMESTAMP', v, numeric);
}

/**
 * A converter for one column's values. The common case of each type takes a shortcut that gives the value the general
 * path (toDuckScalar: the shared check, then DuckDB's form) gives it; DATE, TIMESTAMP and NUMERIC values, which a batch
 * repeats, are remembered per column. Anything unusual takes the general path, with its checks and messages.
 */
function converterFor(col: Column): Converter {
  const numeric = col.numeric ?? DEFAULT_NUMERIC;
  const general: Converter = (v) => {
    if (col.type !== 'JSON' && v !== null && typeof v === 'object') throw new Error(`${describeValue(v)} is not a ${col.type} value`);
    return toDuckScalar(col.type, v, numeric);
  };
  // DATE and TIMESTAMP values go to the shared check as they are (its message names the type).
  const direct: Converter = (v) => toDuckScalar(col.type, v, numeric);
  const cached = (convert: Converter, other: Converter): Converter => {
    const cache = new Map<PlainValue, DuckDBValue>();
    return (v) => {
      if (typeof v !== 'string' && typeof v !== 'number') return other(v);
      let hit = cache.get(v);
      if (hit === undefined) {
        hit = convert(v);
        if (cache.size < 10_000) cache.set(v, hit);
      }
      return hit;
    };
  };
  let scalar: Converter;
  switch (col.type) {
    case 'FLOAT64':
      scalar = (v) => {
        if (typeof v === 'number' || v === null || v === undefined) return v ?? null;
        throw new Error(`${describeValue(v)} is not a valid FLOAT64 value`);
      };
      break;
    case 'STRING':
      scalar = (v) => (typeof v === 'string' ? v : general(v));
      break;
    case 'BOOL':
      scalar = (v) => (typeof v === 'boolean' ? v : general(v));
      break;
    case 'INT64':
      scalar = (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : general(v));
      break;
    case 'NUMERIC':
      scalar = cached(general, general);
      break;
    case 'DATE':
      scalar = cached(direct, direct);
      break;
    case 'TIMESTAMP':
      scalar = cached((v) => (typeof v === 'string' ? timestampValue(v, numeric) : direct(v)), direct);
      break;
    default:
      scalar = general;
  }
  if (!col.repeated) return scalar;
  return (v) => {
    if (v === null || v === undefined) return new DuckDBListValue([]);
    if (!Array.isArray(v)) throw new Error(`${describeValue(v)} is not an array`);
    return new DuckDBListValue(
      v.map((item) => {
        if (item === null) throw new Error('arrays may not contain NULL');
        return scalar(item);
      }),
    );
  };
}

/** Column-major DuckDB values for `rows`, converted by the table's column types; a missing column is NULL. */
export function columnsOf(table: TableDef, rows: readonly Row[]): DuckDBValue[][] {
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
