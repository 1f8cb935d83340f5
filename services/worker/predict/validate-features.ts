/**
 * Feature validation before inference (original-worker §2.3): the 25 base features present and finite, within plausible
 * ranges, and the worker's own quality floor.
 */
import { BASE_FEATURES, type FeatureName, type FeatureValues } from '../../../shared/contracts/feature-contract.js';
import type { FeatureQuality } from '../../../shared/contracts/messages.js';

/** The worker's quality floor (the original's PREDICTION_MIN_QUALITY_THRESHOLD default, 50). */
export const WORKER_QUALITY_FLOOR = 50;

const RANGES: Partial<Record<FeatureName, readonly [number, number]>> = {
  points_avg_season: [0, 60],
  points_avg_last_5: [0, 80],
  points_avg_last_10: [0, 80],
  fatigue_score: [-1, 100],
  opponent_def_rating: [95, 125],
  home_away: [0, 1],
  back_to_back: [0, 1],
  playoff_game: [0, 1],
};

/** null when valid; otherwise what is wrong. */
export function validateFeatures(values: FeatureValues): string | null {
  const missing = BASE_FEATURES.filter((name) => values[name] === undefined || !Number.isFinite(values[name]));
  if (missing.length > 0) return `missing base features: ${missing.join(', ')}`;
  for (const [name, [lo, hi]] of Object.entries(RANGES) as [FeatureName, readonly [number, number]][]) {
    const v = values[name] as number;
    if (v < lo || v > hi) return `${name}=${v} outside [${lo}, ${hi}]`;
  }
  return null;
}

/**
 * The floor on the feature-store quality score, for every request that has a quality block: the worker loaded the row itself
 * (no coordinator gate ran on it), or the coordinator shipped it (its gate already asked ≥ 70). A missing score fails, as in
 * the original. A hand-written request with `features` and no `feature_quality` carries no score to check.
 */
export function qualityFloorProblem(quality: FeatureQuality | undefined): string | null {
  if (quality === undefined) return null;
  const score = quality.feature_quality_score;
  if (score === null) return 'feature_quality_score is missing';
  if (score < WORKER_QUALITY_FLOOR) return `feature_quality_score ${score} is below the worker's floor of ${WORKER_QUALITY_FLOOR}`;
  return null;
}
