/**
 * BigQuery's wire forms of scalar values (parameters and insertAll rows); the engine-neutral codecs (dates, timestamps,
 * NUMERIC scaling) are shared with the DuckDB adapter in shared/values/scalars.ts.
 */
import { decimalString, scaledDecimal } from '../../values/scalars.js';

export {
  canonicalDate,
  canonicalTimestamp,
  dateFromEpochDays,
  describeValue,
  isoFromMicros,
  safeInteger,
  timestampMicros,
} from '../../values/scalars.js';

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
  return decimalString(scaledDecimal(v, precision, scale), scale);
}
