/** The model registry is the single source of the models the worker runs: every row `enabled AND status = 'active'`. */
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { bool, num, reqStr, str } from '../../../shared/queries/row-values.js';

export interface RegistryEntry {
  model_id: string;
  model_version: string;
  gcs_path: string;
  feature_set: string | null;
  feature_count: number | null;
  is_production: boolean;
  quantile_alpha: number | null;
  sha256_hash: string | null;
}

const SQL = `
SELECT model_id, model_version, gcs_path, feature_set, feature_count, is_production, quantile_alpha, sha256_hash
FROM {{nba_predictions.model_registry}}
WHERE enabled = TRUE AND status = 'active'
ORDER BY is_production DESC, model_id`;

export async function loadRegistry(warehouse: Warehouse, datasetPrefix = ''): Promise<RegistryEntry[]> {
  const rows = await warehouse.query({ name: 'model_registry', sql: SQL, datasetPrefix });
  return rows.map((row) => ({
    model_id: reqStr(row, 'model_id'),
    model_version: reqStr(row, 'model_version'),
    gcs_path: reqStr(row, 'gcs_path'),
    feature_set: str(row, 'feature_set'),
    feature_count: num(row, 'feature_count'),
    is_production: bool(row, 'is_production') === true,
    quantile_alpha: num(row, 'quantile_alpha'),
    sha256_hash: str(row, 'sha256_hash'),
  }));
}
