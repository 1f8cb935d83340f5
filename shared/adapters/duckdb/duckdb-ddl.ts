/**
 * DuckDB DDL rendered from the one schema definition (shared/contracts/tables.ts).
 *
 * Types: STRING → VARCHAR, INT64 → BIGINT, FLOAT64 → DOUBLE, NUMERIC(p,s) → DECIMAL(p,s) (default DECIMAL(38,9)),
 * BOOL → BOOLEAN, DATE → DATE, TIMESTAMP → TIMESTAMP (naive, holding UTC), JSON → VARCHAR holding JSON text (the json
 * extension may not be loadable offline), repeated → T[]. Required columns are NOT NULL (repeated columns never are:
 * BigQuery has no REQUIRED arrays). Partitioning and clustering have no DuckDB equivalent and are ignored; partition expiry is
 * emulated by DuckDbWarehouse.ensureTables.
 */
import type { Column, ColumnType, TableDef } from '../../contracts/tables.js';
import { prefixedDataset } from '../../ports/warehouse.js';

const SCALAR_SQL: Readonly<Record<ColumnType, string>> = {
  STRING: 'VARCHAR',
  INT64: 'BIGINT',
  FLOAT64: 'DOUBLE',
  NUMERIC: 'DECIMAL(38,9)',
  BOOL: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
  JSON: 'VARCHAR',
};

export const quoteDuckDbIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The DuckDB type of a column, e.g. `DECIMAL(4,1)` or `BIGINT[]`. */
export function duckDbColumnType(col: Column): string {
  const scalar = col.type === 'NUMERIC' && col.numeric ? `DECIMAL(${col.numeric[0]},${col.numeric[1]})` : SCALAR_SQL[col.type];
  return col.repeated ? `${scalar}[]` : scalar;
}

/** `"<prefix>_dataset"."table"`. */
export function duckDbTableName(table: TableDef, datasetPrefix?: string): string {
  return `${quoteDuckDbIdent(prefixedDataset(table.dataset, datasetPrefix))}.${quoteDuckDbIdent(table.name)}`;
}

/** CREATE SCHEMA IF NOT EXISTS for one dataset (a DuckDB schema), prefixed. */
export function renderDuckDbSchema(dataset: string, datasetPrefix?: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteDuckDbIdent(prefixedDataset(dataset, datasetPrefix))}`;
}

/** CREATE TABLE IF NOT EXISTS for one table (its schema must exist). */
export function renderDuckDbTable(table: TableDef, datasetPrefix?: string): string {
  const columns = table.columns.map((col) => {
    const notNull = col.required && !col.repeated ? ' NOT NULL' : '';
    return `  ${quoteDuckDbIdent(col.name)} ${duckDbColumnType(col)}${notNull}`;
  });
  return `CREATE TABLE IF NOT EXISTS ${duckDbTableName(table, datasetPrefix)} (\n${columns.join(',\n')}\n)`;
}
