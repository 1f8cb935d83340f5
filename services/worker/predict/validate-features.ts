/** Feature validation before inference: the 25 base features present and finite, and within plausible ranges. */
import { BASE_FEATURES, type FeatureName, type FeatureValues } from '../../../shared/contracts/feature-contract.js';

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
