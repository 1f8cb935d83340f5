/**
 * Builds the warehouse the config selects: the embedded DuckDB file (tables ensured at boot) or BigQuery. Each adapter is
 * loaded only when chosen: the BigQuery path never loads DuckDB's native addon (the service images do not ship it,
 * bin/image/), the embedded one never loads Google's client.
 */
import { ALL_TABLES } from '../../contracts/tables.js';
import type { Warehouse } from '../../ports/warehouse.js';
import type { AppLogger } from '../../ports/logger.js';
import type { DuckDbWarehouse } from '../duckdb/duckdb-warehouse.js';

export interface WarehouseConfig {
  WAREHOUSE: 'duckdb' | 'bigquery';
  DUCKDB_PATH: string;
  GCP_PROJECT_ID?: string | undefined;
  /** Required with WAREHOUSE=bigquery (the config refuses it missing). */
  BIGQUERY_LOCATION?: string | undefined;
  BIGQUERY_JOB_TIMEOUT_SECONDS: number;
  BIGQUERY_MAX_BYTES_BILLED: number;
}

/** The embedded warehouse file, with every table ensured (created, migrated additively). */
export async function openDuckDbWarehouse(path: string): Promise<DuckDbWarehouse> {
  const { DuckDbWarehouse } = await import('../duckdb/duckdb-warehouse.js');
  const warehouse = await DuckDbWarehouse.open({ path });
  await warehouse.ensureTables(ALL_TABLES);
  return warehouse;
}

export async function openWarehouse(cfg: WarehouseConfig, service: string, logger: AppLogger): Promise<Warehouse> {
  if (cfg.WAREHOUSE === 'duckdb') return openDuckDbWarehouse(cfg.DUCKDB_PATH);
  if (!cfg.GCP_PROJECT_ID) throw new Error('WAREHOUSE=bigquery needs GCP_PROJECT_ID');
  if (!cfg.BIGQUERY_LOCATION) throw new Error('WAREHOUSE=bigquery needs BIGQUERY_LOCATION');
  const { BigQueryWarehouse } = await import('../bigquery/bigquery-warehouse.js');
  // The datasets and tables belong to the setup script (bin/setup-gcp.ts); the services never run DDL in production.
  const jobTimeoutMs = cfg.BIGQUERY_JOB_TIMEOUT_SECONDS * 1000;
  return new BigQueryWarehouse({
    projectId: cfg.GCP_PROJECT_ID,
    location: cfg.BIGQUERY_LOCATION,
    jobTimeoutMs,
    timeoutMs: jobTimeoutMs + 30_000,
    maximumBytesBilled: cfg.BIGQUERY_MAX_BYTES_BILLED > 0 ? cfg.BIGQUERY_MAX_BYTES_BILLED : null,
    labels: { service },
    onRetry: (e) =>
      logger.warn(
        { event: 'BIGQUERY_RETRY', ...e },
        `BigQuery ${e.operation} attempt ${e.attempt} failed; retrying in ${e.delayMs} ms: ${e.error}`,
      ),
  });
}
