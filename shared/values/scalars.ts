/**
 * Scalar values between the warehouse port's plain JSON values and the engines' own forms, one definition for both adapters
 * (DuckDB and BigQuery): DATE 'YYYY-MM-DD' (a real calendar day); TIMESTAMP in ISO-8601 UTC (no zone means UTC; month,
 * day, hour, minute and second strictly in range: no month 0, no second 60); NUMERIC rounded half away from zero to the
 * column's scale and range-checked against its precision; INT64 only inside Number's safe range.
 */

const MS_PER_DAY = 86_400_000;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

export const describeValue = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v)));

/** Validates 'YYYY-MM-DD' as a real calendar date; returns it unchanged. */
export function canonicalDate(v: string): string {
  epochDays(v);
  return v;
}

/** 'YYYY-MM-DD' → days since 1970-01-01; anything that is not a real calendar day throws. */
export function epochDays(v: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) throw new Error(`${describeValue(v)} is not a DATE (expected YYYY-MM-DD)`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new Error(`${describeValue(v)} is not a valid DATE`);
  }
  return Math.round(ms / MS_PER_DAY);
}

const TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i;

/** ISO-8601 (or BigQuery's 'YYYY-MM-DD HH:MM:SS[.ffffff][+zz:zz]') → microseconds since the epoch; no zone means UTC. */
export function timestampMicros(v: string): bigint {
  const m = TIMESTAMP_PATTERN.exec(v.trim());
  if (!m) throw new Error(`${describeValue(v)} is not a TIMESTAMP (expected ISO-8601)`);
  const num = (i: number): number => Number(m[i] ?? '0');
  const ms = Date.UTC(num(1), num(2) - 1, num(3), num(4), num(5), num(6));
  const day = new Date(Date.UTC(num(1), num(2) - 1, num(3)));
  if (
    Number.isNaN(ms) ||
    num(2) < 1 ||
    num(2) > 12 ||
    num(3) < 1 ||
    day.getUTCDate() !== num(3) ||
    num(4) > 23 ||
    num(5) > 59 ||
    num(6) > 59
  ) {
    throw new Error(`${describeValue(v)} is not a valid TIMESTAMP`);
  }
  const micros = BigInt((m[7] ?? '').slice(0, 6).padEnd(6, '0'));
  let offsetMinutes = 0;
  const zone = m[8]?.toUpperCase();
  if (zone && zone !== 'Z' && zone !== 'UTC') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!z) throw new Error(`${describeValue(v)} has an invalid zone`);
    offsetMinutes = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? '0'));
  }
  return BigInt(ms - offsetMinutes * 60_000) * 1000n + micros;
}

/**
 * Recent inputs of two checks and their results. The worker checks each of a chunk's rows twice (its row check, then the
 * warehouse adapter's conversion), and a chunk's rows share their timestamps (created_at, the batch's times) and, per
 * player, a feature snapshot (JSON) on each of its 8+ rows: a profile of a backfill put these checks at 8 % of the main
 * thread. Both checks are pure, so remembering cannot change a result; an input that fails is never remembered (it
 * throws). At most MEMO_SIZE entries each (then forgotten at once): a chunk of 64 players fits.
 */
const MEMO_SIZE = 256;
const timestamps = new Map<string, string>();
const validJson = new Set<string>();

/** 'YYYY-MM-DDTHH:MM:SS.ffffffZ': lossless to the microsecond. */
export function canonicalTimestamp(v: string): string {
  let out = timestamps.get(v);
  if (out === undefined) {
    out = canonicalTimestampOf(v);
    if (timestamps.size >= MEMO_SIZE) timestamps.clear();
    timestamps.set(v, out);
  }
  return out;
}

function canonicalTimestampOf(v: string): string {
  const micros = timestampMicros(v);
  const ms = floorDiv(micros, 1000n);
  const sub = micros - ms * 1000n;
  return `${new Date(Number(ms)).toISOString().slice(0, -1)}${sub.toString().padStart(3, '0')}Z`;
}

/** Microseconds since the epoch → ISO-8601 UTC, milliseconds always, microseconds only when not zero. */
export function isoFromMicros(micros: bigint): string {
  const ms = floorDiv(micros, 1000n);
  const sub = micros - ms * 1000n;
  const iso = new Date(Number(ms)).toISOString();
  return sub === 0n ? iso : `${iso.slice(0, -1)}${sub.toString().padStart(3, '0')}Z`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

export function dateFromEpochDays(days: number): string {
  return new Date(days * MS_PER_DAY).toISOString().slice(0, 10);
}

/** A bigint → number; beyond Number.MAX_SAFE_INTEGER is an error (never a silently rounded id). */
export function safeNumber(v: bigint): number {
  if (v > MAX_SAFE || v < MIN_SAFE) throw new Error(`integer ${v} is beyond Number.MAX_SAFE_INTEGER`);
  return Number(v);
}

/** An INT64 text → number, inside the safe range. */
export function safeInteger(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`${describeValue(text)} is not an INT64`);
  return safeNumber(BigInt(text));
}

/** The shortest round-trip decimal of a finite number below 1e21, without exponent: 1e-7 → '0.0000001'. */
export function plainDecimal(v: number): string {
  const text = String(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e-(\d+)$/.exec(text);
  if (!m) return text;
  return `${m[1]}0.${'0'.repeat(Number(m[4]) - 1)}${m[2]}${m[3] ?? ''}`;
}

/**
 * A NUMERIC(precision, scale) value scaled to an integer with `scale` fractional digits, rounded half away from zero
 * (from the shortest decimal that is `v`: 27.349 → 27.35 would round twice); more than `precision` digits is an error.
 */
export function scaledDecimal(v: number | string, precision: number, scale: number): bigint {
  let text: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${v} is not a NUMERIC value`);
    if (Math.abs(v) >= 1e21) throw new Error(`${v} is out of range for NUMERIC(${precision},${scale})`);
    text = plainDecimal(v);
  } else {
    text = v.trim();
  }
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`${describeValue(v)} is not a NUMERIC value`);
  const negative = m[1] === '-';
  const frac = m[3] ?? '';
  let scaled = BigInt((m[2] || '0') + frac.slice(0, scale).padEnd(scale, '0'));
  const firstDropped = frac[scale];
  if (firstDropped !== undefined && firstDropped >= '5') scaled += 1n;
  if (scaled >= 10n ** BigInt(precision)) throw new Error(`${describeValue(v)} is out of range for NUMERIC(${precision},${scale})`);
  return negative ? -scaled : scaled;
}

export type ScalarKind = 'STRING' | 'INT64' | 'FLOAT64' | 'NUMERIC' | 'BOOL' | 'DATE' | 'TIMESTAMP' | 'JSON';

/**
 * A value checked against its column or parameter type, in canonical form — the one type check every writer shares
 * (BigQuery parameters and insertAll rows, DuckDB parameters and appends, the worker's row check): STRING a string; INT64
 * an integer string inside Number's safe range (from a safe integer or an integer string); FLOAT64 a number; NUMERIC the
 * decimal string rounded to `numeric` [precision, scale] and range-checked; BOOL a boolean; DATE a real 'YYYY-MM-DD';
 * TIMESTAMP 'YYYY-MM-DDTHH:MM:SS.ffffffZ'; JSON valid JSON text (an object is serialised). Anything else throws
 * `<value> is not a valid <TYPE> value`.
 */
// eslint-disable-next-line complexity -- one switch case per scalar type, each validating its own form
export function canonicalScalar(type: ScalarKind, v: unknown, numeric: readonly [number, number] = [38, 9]): string | number | boolean {
  switch (type) {
    case 'STRING':
      if (typeof v === 'string') return v;
      break;
    case 'INT64':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
      if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return String(safeInteger(v.trim()));
      break;
    case 'FLOAT64':
      if (typeof v === 'number') return v;
      break;
    case 'NUMERIC':
      if (typeof v === 'number' || typeof v === 'string') return decimalString(scaledDecimal(v, numeric[0], numeric[1]), numeric[1]);
      break;
    case 'BOOL':
      if (typeof v === 'boolean') return v;
      break;
    case 'DATE':
      if (typeof v === 'string') return canonicalDate(v);
      break;
    case 'TIMESTAMP':
      if (typeof v === 'string') return canonicalTimestamp(v);
      break;
    case 'JSON':
      if (typeof v !== 'string') return JSON.stringify(v);
      if (validJson.has(v)) return v;
      try {
        JSON.parse(v);
      } catch {
        throw new Error(`${describeValue(v)} is not valid JSON text`);
      }
      if (validJson.size >= MEMO_SIZE) validJson.clear();
      validJson.add(v);
      return v;
  }
  throw new Error(`${describeValue(v)} is not a valid ${type} value`);
}

/** A scaled integer with `scale` fractional digits as a decimal string: (-2735n, 2) → '-27.35'. */
export function decimalString(scaled: bigint, scale: number): string {
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(scale + 1, '0');
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${body}` : body;
}
