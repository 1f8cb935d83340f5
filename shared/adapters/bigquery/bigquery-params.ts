/**
 * Port parameters → BigQuery REST `queryParameters`, every one with an explicit `parameterType` (arrays as
 * ARRAY<element>, nulls typed), values as the strings the REST API defines.
 *
 * Built here rather than with the client's `params` + `types`: the client sends no value at all for a DATE or TIMESTAMP
 * given as a string (its `_getValue` reads `.value` of every DATE- or TIME-typed value, so the parameter silently becomes
 * NULL), and its BigQueryTimestamp wrapper re-parses in local time and drops microseconds after an offset.
 */
import type { QueryParam, ScalarType, ScalarValue } from '../../ports/warehouse.js';
import { float64Wire } from './bigquery-values.js';
import { canonicalScalar } from '../../values/scalars.js';
import { errorMessage } from '../../errors/error-message.js';

export interface RestQueryParameter {
  name: string;
  parameterType: { type: ScalarType } | { type: 'ARRAY'; arrayType: { type: ScalarType } };
  parameterValue: { value: string | null } | { arrayValues: Array<{ value: string }> };
}

/** The wire string of one non-null scalar of `type` (the shared check, shared/values/scalars.ts, then the REST spelling). */
function scalarWire(type: ScalarType, v: Exclude<ScalarValue, null>): string {
  const c = canonicalScalar(type, v);
  if (type === 'FLOAT64') return String(float64Wire(c as number));
  return typeof c === 'boolean' ? (c ? 'true' : 'false') : String(c);
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
