/** Typed reads of plain warehouse rows. A value of the wrong type is an error naming the column, never a silent default. */
import type { Row } from '../ports/warehouse.js';

export function str(row: Row, key: string): string | null {
  const v = row[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new Error(`column ${key}: expected a string, got ${typeof v}`);
  return v;
}

export function num(row: Row, key: string): number | null {
  const v = row[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number') throw new Error(`column ${key}: expected a number, got ${typeof v}`);
  return v;
}

export function bool(row: Row, key: string): boolean | null {
  const v = row[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'boolean') throw new Error(`column ${key}: expected a boolean, got ${typeof v}`);
  return v;
}

export function reqStr(row: Row, key: string): string {
  const v = str(row, key);
  if (v === null) throw new Error(`column ${key}: unexpected NULL`);
  return v;
}

/** A repeated numeric column; NULL (or absent) reads as []. */
export function nums(row: Row, key: string): number[] {
  const v = row[key];
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw new Error(`column ${key}: expected a list of numbers`);
  return v as number[];
}
