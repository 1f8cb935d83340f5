/**
 * From a model's raw output to what a row says: clamp, confidence, recommendation by family, the direction guard, the
 * `is_actionable` filter chain and the scoring tier (original-worker §2.11–2.13).
 */
import type { ModelFamily } from '../../../shared/contracts/feature-contract.js';

export const PREDICTION_BOUNDS = [0, 60] as const;

export type Recommendation = 'OVER' | 'UNDER' | 'PASS' | 'HOLD' | 'NO_LINE';

export function clampPrediction(raw: number): number {
  return Math.min(PREDICTION_BOUNDS[1], Math.max(PREDICTION_BOUNDS[0], raw));
}

/** 0–100. v9: 75 + quality bonus (≥90 +10, ≥80 +7, ≥70 +5, else +2) + consistency bonus (std <4 +10, <6 +7, <8 +5, else +2). */
export function confidence(family: ModelFamily, quality: number | null, std: number | undefined): number {
  const q = quality ?? 80;
  const s = std ?? 5;
  if (family === 'v9') {
    const qb = q >= 90 ? 10 : q >= 80 ? 7 : q >= 70 ? 5 : 2;
    const sb = s < 4 ? 10 : s < 6 ? 7 : s < 8 ? 5 : 2;
    return Math.min(100, Math.max(0, 75 + qb + sb));
  }
  const qb = q >= 90 ? 10 : q >= 80 ? 7 : q >= 70 ? 5 : 0;
  const sb = s < 4 ? 10 : s < 6 ? 5 : 0;
  return Math.min(100, Math.max(0, 75 + qb + sb));
}

/** The edge a family needs for OVER/UNDER: v9 1.0; v12 3.0, or 4.0 for a quantile model. */
export function minEdge(family: ModelFamily, quantileAlpha: number | null): number {
  if (family === 'v9') return 1;
  return quantileAlpha !== null ? 4 : 3;
}

export function recommend(family: ModelFamily, quantileAlpha: number | null, predicted: number, line: number | null): Recommendation {
  if (line === null) return 'NO_LINE';
  const edge = predicted - line;
  const threshold = minEdge(family, quantileAlpha);
  if (edge >= threshold) return 'OVER';
  if (edge <= -threshold) return 'UNDER';
  return family === 'v9' ? 'PASS' : 'HOLD';
}

/** An OVER/UNDER that disagrees with the sign of (prediction − line) is corrected; PASS and HOLD never change. */
export function directionGuard(rec: Recommendation, predicted: number, line: number | null): Recommendation {
  if (line === null || (rec !== 'OVER' && rec !== 'UNDER')) return rec;
  if (predicted > line) return 'OVER';
  if (predicted < line) return 'UNDER';
  return rec;
}

export interface ActionableInput {
  systemId: string;
  championId: string | null;
  recommendation: Recommendation;
  predicted: number;
  line: number | null;
  confidence: number;
  seasonAvg: number | undefined;
  last5Avg: number | undefined;
  /** NULL is not ready (the original's loader made a NULL false). */
  isQualityReady: boolean | null;
  requiredDefaults: number | null;
}

/** The filter chain, in order; the first filter that applies names the reason. */
// eslint-disable-next-line complexity -- the original's filter chain, in order, one early return per filter (reference/original-worker.md)
export function actionable(input: ActionableInput): { isActionable: boolean; filterReason: string | null } {
  const no = (reason: string) => ({ isActionable: false, filterReason: reason });
  const conf = input.confidence > 1 ? input.confidence / 100 : input.confidence;
  if (conf >= 0.88 && conf < 0.9) return no('confidence_tier_88_90');
  if (input.line === null) return no('no_line');
  if (input.recommendation !== 'OVER' && input.recommendation !== 'UNDER') return no('no_recommendation');
  const edge = Math.abs(input.predicted - input.line);
  const under = input.recommendation === 'UNDER';
  const season = input.seasonAvg ?? 15;
  if (edge < 3) return no('low_edge');
  if (input.systemId === input.championId && under && edge < 5) return no('stale_model_under_dampening');
  if (season >= 25 && under && edge >= 5 && !input.systemId.includes('_q4')) return no('star_under_bias_suspect');
  if (under && season >= 8 && season <= 16 && edge < 5) return no('role_player_under_low_edge');
  if (under && input.last5Avg !== undefined && input.last5Avg - season > 3) return no('hot_streak_under_risk');
  if (input.isQualityReady !== true) return no('not_quality_ready');
  if ((input.requiredDefaults ?? 0) > 0) return no('has_default_features');
  return { isActionable: true, filterReason: null };
}

export function scoringTier(seasonAvg: number | undefined): 'star' | 'starter' | 'role' | 'bench' {
  const s = seasonAvg ?? 15;
  if (s >= 25) return 'star';
  if (s >= 15) return 'starter';
  if (s >= 5) return 'role';
  return 'bench';
}
