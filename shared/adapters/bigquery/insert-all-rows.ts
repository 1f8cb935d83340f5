/**
 * Port rows → insertAll (legacy streaming) rows `{insertId, json}`, converted by the table's column types
 * (contracts/tables.ts), the same rules as the DuckDB adapter's insert:
 *   unknown column → error; missing or null → NULL (a required column → error; a repeated column → []);
 *   NUMERIC → decimal string rounded to the column's scale (BigQuery rejects binary floats for NUMERIC); INT64 → safe
 *   integer or integer string; FLOAT64 → number; DATE → checked 'YYYY-MM-DD'; TIMESTAMP → 'YYYY-MM-DDTHH:MM:SS.ffffffZ';
 *   JSON → JSON text (checked); arrays may not hold NULL.
 * insertIds: built from `idColumns` (joined with '|', hashed when longer than 128 characters), so a redelivered write sends
 * the same ids and BigQuery drops the copy (best effort); without idColumns, a random UUID per row — still the same ids on
 * the adapter's own retries of this call. Rows with one id are one row to BigQuery.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Column, TableDef } from '../../contracts/tables.js';
import type { PlainValue, Row } from '../../ports/warehouse.js';
import { describeValue, float64Wire } from './bigquery-values.js';
import { canonicalScalar } from '../../values/scalars.js';
import { errorMessage } from '../../errors/error-message.js';

export type WireValue = string | number | boolean | WireValue[];

export interface InsertAllRow {
  insertId: string;
  json: Record<string, WireValue>;
}

const DEFAULT_NUMERIC: readonly [number, number] = [38, 9];
const MAX_INSERT_ID = 128;

/** One non-null cell in insertAll's JSON: the shared type check (shared/values/scalars.ts), then the JSON spelling. */
function scalarWire(col: Column, v: PlainValue): WireValue {
  const c = canonicalScalar(col.type, v, col.numeric ?? DEFAULT_NUMERIC);
  if (col.type === 'FLOAT64') return float64Wire(c as number);
  // An INT64 given as a number stays a number on the wire (it is inside the safe range); as a string, a string.
  if (col.type === 'INT64' && typeof v === 'number') return Number(c);
  return c;
}

function cellWire(col: Column, v: PlainValue | undefined): WireValue | undefined {
  if (col.repeated) {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) throw new Error(`${describeValue(v)} is not an array`);
    return v.map((item) => {
      if (item === null) throw new Error('arrays may not contain NULL');
      return scalarWire(col, item);
    });
  }
  if (v === null || v === undefined) {
    if (col.required) throw new Error('is required (NOT NULL)');
    return undefined;
  }
  if (col.type !== 'JSON' && typeof v === 'object') throw new Error(`${describeValue(v)} is not a ${col.type} value`);
  return scalarWire(col, v);
}

function insertIdOf(row: Row, idColumns: readonly string[]): string {
  const parts = idColumns.map((name) => {
    const v = row[name];
    if (v === null || v === undefined || typeof v === 'object')
      throw new Error(`id column '${name}' needs a scalar value, got ${describeValue(v ?? null)}`);
    return String(v);
  });
  const id = parts.join('|');
  return id.length <= MAX_INSERT_ID ? id : createHash('sha256').update(id).digest('hex');
}

/** Converts and checks every row; throws `row <i>, column '<c>': …` on the first bad value. */
export function insertAllRows(table: TableDef, rows: readonly Row[], idColumns?: readonly string[]): InsertAllRow[] {
  const columns = new Map(table.columns.map((c) => [c.name, c]));
  for (const name of idColumns ?? []) {
    if (!columns.has(name)) throw new Error(`id column '${name}' is not a column of ${table.dataset}.${table.name}`);
  }
  return rows.map((row, r) => {
    for (const key of Object.keys(row)) {
      if (!columns.has(key)) throw new Error(`row ${r}: unknown column '${key}' (not in ${table.dataset}.${table.name})`);
    }
    const json: Record<string, WireValue> = {};
    for (const col of table.columns) {
      let wire: WireValue | undefined;
      try {
        wire = cellWire(col, row[col.name]);
      } catch (err) {
        throw new Error(`row ${r}, column '${col.name}': ${errorMessage(err)}`, { cause: err });
      }
      if (wire !== undefined) json[col.name] = wire;
    }
    let insertId: string;
    try {
      insertId = idColumns && idColumns.length > 0 ? insertIdOf(row, idColumns) : randomUUID();
    } catch (err) {
      throw new Error(`row ${r}: ${errorMessage(err)}`, { cause: err });
    }
    return { insertId, json };
  });
}

/** Splits rows into insertAll requests of at most `maxRows` rows and about `maxBytes` of JSON (BigQuery caps a request at 10 MB). */
export function chunkInsertRows(rows: readonly InsertAllRow[], maxRows: number, maxBytes: number): InsertAllRow[][] {
  const chunks: InsertAllRow[][] = [];
  let current: InsertAllRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = Buffer.byteLength(JSON.stringify(row));
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
