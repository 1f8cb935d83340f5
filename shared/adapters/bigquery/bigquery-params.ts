/**
 * Port parameters → BigQuery REST `queryParameters`, every one with an explicit `parameterType` (arrays as
 * ARRAY<element>, nulls typed), values as the strings the REST API defines.
 *
 * Built here rather than with the client's `params` + `types`: the client sends no value at all for a DATE or TIMESTAMP
 * given as a string (its `_getValue` reads `.value` of every DATE- or TIME-typed value, so the parameter silently becomes
 * NULL), and its BigQueryTimestamp wrapper re-parses in local time and drops microseconds after an offset.
 */
import type { QueryParam, ScalarType, ScalarValue } from '../../ports/warehouse.js';
import { canonicalDate, canonicalTimestamp, describeValue, float64Wire, int64String, numericString } from './bigquery-values.js';
import { errorMessage } from '../../errors/error-message.js';

export interface RestQueryParameter {
  name: string;
  parameterType: { type: ScalarType } | { type: 'ARRAY'; arrayType: { type: ScalarType } };
  parameterValue: { value: string | null } | { arrayValues: Array<{ value: string }> };
}

/** The wire string of one non-null scalar of `type`. */
function scalarWire(type: ScalarType, v: Exclude<ScalarValue, null>): string {
  switch (type) {
    case 'STRING':
      if (typeof v === 'string') return v;
      break;
    case 'INT64':
      if (typeof v === 'number' || typeof v === 'string') return int64String(v);
      break;
    case 'FLOAT64':
      if (typeof v === 'number') return String(float64Wire(v));
      break;
    case 'NUMERIC':
      if (typeof v === 'number' || typeof v === 'string') return numericString(v, 38, 9);
      break;
    case 'BOOL':
      if (typeof v === 'boolean') return v ? 'true' : 'false';
      break;
    case 'DATE':
      if (typeof v === 'string') return canonicalDate(v);
      break;
    case 'TIMESTAMP':
      if (typeof v === 'string') return canonicalTimestamp(v);
      break;
    case 'JSON':
      return typeof v === 'string' ? v : JSON.stringify(v);
  }
  throw new Error(`${describeValue(v)} is not a valid ${type} value`);
}

export function restQueryParameter(name: string, p: QueryParam): RestQueryParameter {
  try {
    if (p.type === 'ARRAY') {
      if (!Array.isArray(p.value)) throw new Error('an ARRAY parameter needs an array value');
      const arrayValues = p.value.map((item) => {
        if (item === null) throw new Error('an ARRAY parameter may not contain NULL (BigQuery rejects it)');
        return { value: scalarWire(p.elementType, item) };
      });
      return { name, parameterType: { type: 'ARRAY', arrayType: { type: p.elementType } }, parameterValue: { arrayValues } };
    }
    return { name, parameterType: { type: p.type }, parameterValue: { value: p.value === null ? null : scalarWire(p.type, p.value) } };
  } catch (err) {
    throw new Error(`parameter @${name}: ${errorMessage(err)}`, { cause: err });
  }
}

export function restQueryParameters(params: Record<string, QueryParam> | undefined): RestQueryParameter[] {
  return Object.entries(params ?? {}).map(([name, p]) => restQueryParameter(name, p));
}

/** Two parameters that send the same type and value (statements of one transaction may then share the name). */
export function sameParam(a: QueryParam, b: QueryParam): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
