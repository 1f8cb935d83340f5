/**
 * BigQuery's wire forms of scalar values (parameters and insertAll rows); the engine-neutral codecs (dates, timestamps,
 * NUMERIC scaling) are shared with the DuckDB adapter in shared/values/scalars.ts.
 */
import { describeValue, scaledDecimal } from '../../values/scalars.js';

export { canonicalDate, canonicalTimestamp, dateFromEpochDays, describeValue, isoFromMicros, safeInteger, timestampMicros } from '../../values/scalars.js';

/** An INT64 value for the wire: a safe integer number, or an integer string. */
export function int64String(v: number | string): string {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`${v} is not a safe INT64 value`);
    return String(v);
  }
  if (!/^[+-]?\d+$/.test(v.trim())) throw new Error(`${describeValue(v)} is not an INT64 value`);
  return v.trim();
}

/** FLOAT64 for the wire; non-finite values use the spellings BigQuery reads. */
export function float64Wire(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/**
 * A NUMERIC(precision, scale) value as a decimal string (BigQuery rejects binary floats for NUMERIC), rounded half away from
 * zero to `scale` digits, like the DuckDB adapter; a value needing more than `precision` digits is an error.
 */
export function numericString(v: number | string, precision: number, scale: number): string {
  const scaled = scaledDecimal(v, precision, scale);
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(scale + 1, '0');
  const body = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${body}` : body;
}
