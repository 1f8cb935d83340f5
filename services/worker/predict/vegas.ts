/**
 * Vegas line precedence (original-worker §2.4, design §6): the request's line (the upper median of its valid line values,
 * which is the base line for single- and multi-line requests) → the feature store's values → none.
 */
import type { FeatureValues } from '../../../shared/contracts/feature-contract.js';

export type VegasSource = 'coordinator_line' | 'feature_store' | 'none';

export interface VegasResolution {
  values: FeatureValues;
  source: VegasSource;
  line: number | null;
}

export function requestLine(lineValues: readonly (number | null)[]): number | null {
  const valid = lineValues.filter((v): v is number => v !== null && Number.isFinite(v) && v > 0).sort((a, b) => a - b);
  if (valid.length === 0) return null;
  return valid[Math.floor(valid.length / 2)] ?? null;
}

export function resolveVegas(features: FeatureValues, lineValues: readonly (number | null)[]): VegasResolution {
  const line = requestLine(lineValues);
  if (line !== null) {
    return {
      values: { ...features, vegas_points_line: line, vegas_opening_line: line, vegas_line_move: 0, has_vegas_line: 1 },
      source: 'coordinator_line',
      line,
    };
  }
  if (features.vegas_points_line !== undefined) {
    return { values: { ...features, has_vegas_line: 1 }, source: 'feature_store', line: features.vegas_points_line };
  }
  const values: FeatureValues = { ...features, has_vegas_line: 0 };
  delete values.vegas_points_line;
  delete values.vegas_opening_line;
  delete values.vegas_line_move;
  return { values, source: 'none', line: null };
}
