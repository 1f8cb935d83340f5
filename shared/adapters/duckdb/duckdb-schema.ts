/**
 * Tables on DuckDB from the one schema definition: create (IF NOT EXISTS), additive migration (a column the definition has
 * and an older table lacks is added, nullable), BigQuery's partition expiry emulated, and the physical column order the
 * appender needs.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { ALL_TABLES, type TableDef } from '../../contracts/tables.js';
import { DATASET_PREFIX_PATTERN, prefixedDataset } from '../../ports/warehouse.js';
import { duckDbColumnType, duckDbTableName, quoteDuckDbIdent, renderDuckDbSchema, renderDuckDbTable } from './duckdb-ddl.js';
import { isDuckDbConflict } from './duckdb-errors.js';
import { withRetry } from '../../retry/backoff.js';
import { DuckDBListValue, LIST, VARCHAR } from './duckdb-api.js';

const MS_PER_DAY = 86_400_000;

/**
 * Creates the tables, migrates older ones additively, and drops rows whose partition would have expired on BigQuery.
 * Returns each table's physical column order (`schema.table` → column names), what the appender needs. The existing
 * columns are read in one catalog query for all the tables, not one per table: DuckDB builds `information_schema.columns`
 * from its whole catalog on every read (≈ 5 ms on a 2-core machine whether one table's columns are asked for or all), and
 * every warehouse opened, every test world seeded, ensured some twenty tables.
 */
export async function ensureDuckDbTables(
  conn: DuckDBConnection,
  tables: readonly TableDef[],
  datasetPrefix: string | undefined,
  now: Date,
): Promise<Map<string, string[]>> {
  const datasets = [...new Set(tables.map((t) => t.dataset))];
  const schemas = datasets.map((d) => prefixedDataset(d, datasetPrefix));
  const ddl = [...datasets.map((d) => renderDuckDbSchema(d, datasetPrefix)), ...tables.map((t) => renderDuckDbTable(t, datasetPrefix))];
  for (const sql of ddl) {
    // Two processes' first boots may race on CREATE SCHEMA; a conflict clears on a short retry.
    await withRetry(() => conn.run(sql), { attempts: 5, initialDelayMs: 5, maxDelayMs: 50, retryIf: isDuckDbConflict });
  }
  let physical = await physicalColumnsOf(conn, schemas);
  const alters = tables.flatMap((table) => {
    const existing = new Set(physical.get(`${prefixedDataset(table.dataset, datasetPrefix)}.${table.name}`));
    return table.columns
      .filter((col) => !existing.has(col.name))
      .map(
        (col) => `ALTER TABLE ${duckDbTableName(table, datasetPrefix)} ADD COLUMN ${quoteDuckDbIdent(col.name)} ${duckDbColumnType(col)}`,
      );
  });
  for (const sql of alters) await conn.run(sql);
  if (alters.length > 0) physical = await physicalColumnsOf(conn, schemas);
  for (const table of tables) {
    const expiry = expirySql(table, datasetPrefix, now);
    if (expiry) await conn.run(expiry);
  }
  return physical;
}

/** Drops every dataset of the project's tables created under `prefix` (`<prefix>_nba_raw`, …), with its tables. */
export async function dropDuckDbPrefix(conn: DuckDBConnection, prefix: string): Promise<void> {
  if (!DATASET_PREFIX_PATTERN.test(prefix)) throw new Error(`invalid dataset prefix '${prefix}'`);
  for (const ds of new Set(ALL_TABLES.map((t) => prefixedDataset(t.dataset, prefix))))
    await conn.run(`DROP SCHEMA IF EXISTS ${quoteDuckDbIdent(ds)} CASCADE`);
}

/**
 * DELETE of the rows BigQuery would have expired by `now`: a daily partition lives `partitionExpirationDays` past the end of
 * its (UTC) day, so rows whose partition day is before the UTC day of `now − days` are gone. Null for tables without expiry.
 */
export function expirySql(table: TableDef, datasetPrefix: string | undefined, now: Date): string | null {
  if (table.partitionExpirationDays === undefined || table.partitionBy === undefined) return null;
  const col = table.columns.find((c) => c.name === table.partitionBy);
  if (!col || (col.type !== 'DATE' && col.type !== 'TIMESTAMP')) {
    throw new Error(`${table.dataset}.${table.name}: partition column '${table.partitionBy}' must be a DATE or TIMESTAMP column`);
  }
  const cutoffDay = new Date(now.getTime() - table.partitionExpirationDays * MS_PER_DAY).toISOString().slice(0, 10);
  return `DELETE FROM ${duckDbTableName(table, datasetPrefix)} WHERE ${quoteDuckDbIdent(col.name)} < ${col.type} '${cutoffDay}'`;
}

/** Every table's columns in the given schemas, in physical order, in one catalog read: `schema.table` → column names. */
async function physicalColumnsOf(conn: DuckDBConnection, schemas: readonly string[]): Promise<Map<string, string[]>> {
  const byTable = new Map<string, string[]>();
  if (schemas.length === 0) return byTable;
  const reader = await conn.runAndReadAll(
    `SELECT table_schema, table_name, column_name FROM information_schema.columns
     WHERE list_contains($schemas, table_schema) ORDER BY table_schema, table_name, ordinal_position`,
    { schemas: new DuckDBListValue([...schemas]) },
    { schemas: LIST(VARCHAR) },
  );
  for (const r of reader.getRowObjectsJson()) {
    const key = `${String(r.table_schema)}.${String(r.table_name)}`;
    const columns = byTable.get(key) ?? [];
    columns.push(String(r.column_name));
    byTable.set(key, columns);
  }
  return byTable;
}

/** One table's columns in physical order (a table the warehouse did not ensure itself). */
export async function physicalColumns(conn: DuckDBConnection, schema: string, table: string): Promise<string[]> {
  const reader = await conn.runAndReadAll(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $schema AND table_name = $table ORDER BY ordinal_position',
    { schema, table },
  );
  return reader.getRowObjectsJson().map((r) => String(r.column_name));
}
