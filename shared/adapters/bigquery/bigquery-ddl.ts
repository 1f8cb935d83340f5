/**
 * BigQuery DDL rendered from the one schema definition (shared/contracts/tables.ts), for the setup script and
 * `BigQueryWarehouse.ensureTables`.
 *
 * Types: STRING, INT64, FLOAT64, NUMERIC(p, s) (plain NUMERIC without a spec), BOOL, DATE, TIMESTAMP, JSON; repeated →
 * ARRAY<T>. Required columns are NOT NULL (never a repeated one: BigQuery has no REQUIRED arrays). `partitionBy` on a DATE
 * column partitions by it; on a TIMESTAMP column by DATE(column) (daily, UTC). `clusterBy` → CLUSTER BY (≤ 4 top-level
 * columns of a clusterable type). Table OPTIONS: partition_expiration_days, require_partition_filter, description; column
 * descriptions become column OPTIONS. Every statement is idempotent (IF NOT EXISTS).
 */
import type { Column, ColumnType, TableDef } from '../../contracts/tables.js';
import { prefixedDataset } from '../../ports/warehouse.js';
import { bigQueryDatasetName, bigQueryTableName } from './bigquery-sql.js';

export interface BigQueryDdlOptions {
  projectId: string;
  /** Dataset location for CREATE SCHEMA (e.g. `US`, `europe-west2`). */
  location: string;
  datasetPrefix?: string;
}

const CLUSTERABLE: ReadonlySet<ColumnType> = new Set(['STRING', 'INT64', 'NUMERIC', 'BOOL', 'DATE', 'TIMESTAMP']);

/** A GoogleSQL string literal. */
export function bigQueryString(value: string): string {
  const escaped = value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `'${escaped}'`;
}

const ident = (name: string): string => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`column name '${name}' is not a plain identifier`);
  return `\`${name}\``;
};

/** `NUMERIC(4, 1)`, `ARRAY<INT64>`, `STRING`, … */
export function bigQueryColumnType(col: Column): string {
  const scalar = col.type === 'NUMERIC' && col.numeric ? `NUMERIC(${col.numeric[0]}, ${col.numeric[1]})` : col.type;
  return col.repeated ? `ARRAY<${scalar}>` : scalar;
}

/** `` `name` TYPE [NOT NULL] [OPTIONS(description = …)] ``; `forAdd` drops NOT NULL (BigQuery cannot add a REQUIRED column). */
function columnSql(col: Column, forAdd: boolean): string {
  const notNull = col.required && !col.repeated && !forAdd ? ' NOT NULL' : '';
  const options = col.description ? ` OPTIONS(description = ${bigQueryString(col.description)})` : '';
  return `${ident(col.name)} ${bigQueryColumnType(col)}${notNull}${options}`;
}

function columnOf(table: TableDef, name: string, role: string): Column {
  const col = table.columns.find((c) => c.name === name);
  if (!col) throw new Error(`${table.dataset}.${table.name}: ${role} column '${name}' is not a column of the table`);
  return col;
}

function partitionSql(table: TableDef): string | null {
  if (table.partitionBy === undefined) return null;
  const col = columnOf(table, table.partitionBy, 'partition');
  if (col.repeated) throw new Error(`${table.dataset}.${table.name}: partition column '${col.name}' is repeated`);
  if (col.type === 'DATE') return `PARTITION BY ${ident(col.name)}`;
  if (col.type === 'TIMESTAMP') return `PARTITION BY DATE(${ident(col.name)})`;
  throw new Error(
    `${table.dataset}.${table.name}: partition column '${col.name}' is ${col.type}; only DATE and TIMESTAMP columns partition by day`,
  );
}

function clusterSql(table: TableDef): string | null {
  const names = table.clusterBy ?? [];
  if (names.length === 0) return null;
  if (names.length > 4) throw new Error(`${table.dataset}.${table.name}: ${names.length} clustering columns, BigQuery allows 4`);
  for (const name of names) {
    const col = columnOf(table, name, 'clustering');
    if (col.repeated || !CLUSTERABLE.has(col.type)) {
      throw new Error(`${table.dataset}.${table.name}: clustering column '${name}' (${bigQueryColumnType(col)}) is not clusterable`);
    }
  }
  return `CLUSTER BY ${names.map(ident).join(', ')}`;
}

function tableOptionsSql(table: TableDef): string {
  const options: string[] = [];
  if (table.partitionExpirationDays !== undefined) {
    if (table.partitionBy === undefined) throw new Error(`${table.dataset}.${table.name}: partitionExpirationDays needs partitionBy`);
    if (!(table.partitionExpirationDays > 0)) throw new Error(`${table.dataset}.${table.name}: partitionExpirationDays must be > 0`);
    options.push(`partition_expiration_days = ${table.partitionExpirationDays}`);
  }
  if (table.requirePartitionFilter) {
    if (table.partitionBy === undefined) throw new Error(`${table.dataset}.${table.name}: requirePartitionFilter needs partitionBy`);
    options.push('require_partition_filter = TRUE');
  }
  options.push(`description = ${bigQueryString(table.description)}`);
  return `OPTIONS(${options.join(', ')})`;
}

/** CREATE SCHEMA IF NOT EXISTS for one dataset, in the given location. */
export function renderCreateSchema(dataset: string, opts: BigQueryDdlOptions): string {
  return `CREATE SCHEMA IF NOT EXISTS ${bigQueryDatasetName(opts.projectId, dataset, opts.datasetPrefix)} OPTIONS(location = ${bigQueryString(opts.location)})`;
}

/** CREATE TABLE IF NOT EXISTS with columns, partitioning, clustering and options. */
export function renderCreateTable(table: TableDef, opts: BigQueryDdlOptions): string {
  const parts = [
    `CREATE TABLE IF NOT EXISTS ${bigQueryTableName(opts.projectId, table.dataset, table.name, opts.datasetPrefix)} (`,
    table.columns.map((col) => `  ${columnSql(col, false)}`).join(',\n'),
    ')',
    partitionSql(table),
    clusterSql(table),
    tableOptionsSql(table),
  ];
  return parts.filter((p): p is string => p !== null).join('\n');
}

/** ALTER TABLE … ADD COLUMN IF NOT EXISTS for columns an existing table lacks (added NULLABLE: BigQuery's rule). */
export function renderAddColumns(table: TableDef, columns: readonly Column[], opts: BigQueryDdlOptions): string {
  if (columns.length === 0) throw new Error(`${table.dataset}.${table.name}: no columns to add`);
  const adds = columns.map((col) => `  ADD COLUMN IF NOT EXISTS ${columnSql(col, true)}`);
  return `ALTER TABLE ${bigQueryTableName(opts.projectId, table.dataset, table.name, opts.datasetPrefix)}\n${adds.join(',\n')}`;
}

/** The datasets of `tables`, prefixed, in first-seen order. */
export function datasetsOf(tables: readonly TableDef[], datasetPrefix?: string): string[] {
  return [...new Set(tables.map((t) => prefixedDataset(t.dataset, datasetPrefix)))];
}

/**
 * Every statement to create `tables` from nothing: one CREATE SCHEMA per dataset, then one CREATE TABLE per table. For the
 * setup script (run them in order, e.g. as one script job) and for `BigQueryWarehouse.ensureTables`.
 */
export function renderBigQueryDdl(tables: readonly TableDef[], opts: BigQueryDdlOptions): string[] {
  const datasets = [...new Set(tables.map((t) => t.dataset))];
  return [...datasets.map((ds) => renderCreateSchema(ds, opts)), ...tables.map((t) => renderCreateTable(t, opts))];
}
