/**
 * Query results → the port's plain rows, decoded from the REST `f`/`v` encoding with the result schema (the client's own
 * parsing is skipped: it would hand out big.js `Big`s, BigQueryDate/BigQueryTimestamp wrappers and millisecond-rounded
 * timestamps). The rows equal what DuckDbWarehouse returns for the same data:
 *   INT64 → number (beyond Number.MAX_SAFE_INTEGER is an error), FLOAT64 / NUMERIC / BIGNUMERIC → number,
 *   BOOL → boolean, DATE → 'YYYY-MM-DD', TIMESTAMP → ISO-8601 UTC (see bigquery-values), DATETIME / TIME → BigQuery's text,
 *   JSON → its JSON text (DuckDB stores JSON as text, so both engines give the same string; JSON.parse it where needed),
 *   BYTES → base64 text, REPEATED → arrays, RECORD → objects, NULL → null.
 */
import type { PlainValue, Row } from '../../ports/warehouse.js';
import { isoFromMicros, safeInteger, timestampMicros } from './bigquery-values.js';
import { errorMessage } from '../../errors/error-message.js';

export interface SchemaField {
  name: string;
  type: string;
  mode?: string;
  fields?: SchemaField[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates the schema the API returned (the boundary: nothing untyped goes further). */
export function schemaFields(schema: unknown): SchemaField[] {
  if (schema === undefined || schema === null) return [];
  if (!isRecord(schema) || (schema.fields !== undefined && !Array.isArray(schema.fields))) throw new Error('result schema is malformed');
  return ((schema.fields ?? []) as unknown[]).map(fieldOf);
}

function fieldOf(f: unknown): SchemaField {
  if (!isRecord(f) || typeof f.name !== 'string' || typeof f.type !== 'string')
    throw new Error(`result schema field is malformed: ${JSON.stringify(f)}`);
  const field: SchemaField = { name: f.name, type: f.type.toUpperCase() };
  if (typeof f.mode === 'string') field.mode = f.mode.toUpperCase();
  if (Array.isArray(f.fields)) field.fields = f.fields.map(fieldOf);
  return field;
}

/** TIMESTAMP cells: int64 microseconds (formatOptions.useInt64Timestamp), float seconds, or ISO text. */
function decodeTimestamp(text: string): string {
  if (/^-?\d+$/.test(text)) return isoFromMicros(BigInt(text));
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text)) return isoFromMicros(BigInt(Math.round(Number(text) * 1e6)));
  return isoFromMicros(timestampMicros(text));
}

// eslint-disable-next-line complexity -- one branch per BigQuery column type, each decoding its wire form
function decodeScalar(field: SchemaField, v: unknown): PlainValue {
  if (v === null || v === undefined) return null;
  if (field.type === 'RECORD' || field.type === 'STRUCT') return decodeRecord(field.fields ?? [], v);
  if (typeof v !== 'string') throw new Error(`column '${field.name}' (${field.type}): expected a string cell, got ${JSON.stringify(v)}`);
  switch (field.type) {
    case 'STRING':
    case 'JSON':
    case 'BYTES':
    case 'DATE':
    case 'DATETIME':
    case 'TIME':
    case 'GEOGRAPHY':
    case 'INTERVAL':
    case 'RANGE':
      return v;
    case 'INTEGER':
    case 'INT64':
      return safeInteger(v);
    case 'FLOAT':
    case 'FLOAT64':
    case 'NUMERIC':
    case 'BIGNUMERIC': {
      const n = Number(v);
      if (Number.isNaN(n) && v !== 'NaN') throw new Error(`'${v}' is not a number`);
      return n;
    }
    case 'BOOLEAN':
    case 'BOOL':
      if (v !== 'true' && v !== 'false') throw new Error(`'${v}' is not a BOOL`);
      return v === 'true';
    case 'TIMESTAMP':
      return decodeTimestamp(v);
    default:
      throw new Error(`unsupported result type ${field.type}`);
  }
}

function decodeCell(field: SchemaField, v: unknown): PlainValue {
  try {
    if (field.mode === 'REPEATED') {
      if (v === null || v === undefined) return [];
      if (!Array.isArray(v)) throw new Error('expected an array cell');
      return v.map((item: unknown) => decodeScalar(field, isRecord(item) ? item.v : item));
    }
    return decodeScalar(field, v);
  } catch (err) {
    throw new Error(`column '${field.name}': ${errorMessage(err)}`, { cause: err });
  }
}

function decodeRecord(fields: readonly SchemaField[], v: unknown): Row {
  if (!isRecord(v) || !Array.isArray(v.f)) throw new Error(`expected a row {f: [...]}, got ${JSON.stringify(v)}`);
  const cells = v.f as unknown[];
  if (cells.length !== fields.length) throw new Error(`row has ${cells.length} cells, the schema ${fields.length} fields`);
  const row: Row = {};
  fields.forEach((field, i) => {
    const cell = cells[i];
    row[field.name] = decodeCell(field, isRecord(cell) ? cell.v : null);
  });
  return row;
}

/** Decodes every raw `{f:[{v}]}` row with the schema. */
export function decodeRows(fields: readonly SchemaField[], rows: readonly unknown[]): Row[] {
  return rows.map((r, i) => {
    try {
      return decodeRecord(fields, r);
    } catch (err) {
      throw new Error(`result row ${i}: ${errorMessage(err)}`, { cause: err });
    }
  });
}
