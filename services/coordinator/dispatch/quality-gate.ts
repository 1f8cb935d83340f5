/**
 * The quality gate, per model, first rule that matches (original-coordinator §3.14):
 *   already predicted (unless LINE_UPDATE, or the batch re-predicts to replace) → skip; red alert → block; matchup quality < 50 → block;
 *   required defaults > 0 → block; no feature row → block; score ≥ the mode's threshold → predict; else skip.
 * A player is published when any model says predict.
 */
import type { FeatureQuality } from '../../../shared/contracts/messages.js';
import { GATE_THRESHOLDS, type RunMode } from './run-modes.js';

export const MATCHUP_FLOOR = 50;

export type GateVerdict = 'predict' | 'skip' | 'block';

export interface GateDecision {
  verdict: GateVerdict;
  reason: string;
}

export interface GateInput {
  alreadyPredicted: boolean;
  /** undefined when the player has no feature-store row. */
  quality: FeatureQuality | undefined;
  mode: RunMode;
  /** A line check, line update or regeneration: its rows replace the active ones, so "already predicted" does not skip. */
  replacing?: boolean;
}

export function gateModel(input: GateInput): GateDecision {
  if (input.alreadyPredicted && input.mode !== 'LINE_UPDATE' && input.replacing !== true)
    return { verdict: 'skip', reason: 'already_has_prediction' };
  const q = input.quality;
  if (q?.quality_alert_level?.toLowerCase() === 'red') return { verdict: 'block', reason: 'hard_floor_red_alert' };
  if (q) {
    const matchup = q.matchup_quality_pct ?? 0;
    if (matchup < MATCHUP_FLOOR) return { verdict: 'block', reason: `hard_floor_matchup_${formatPct(matchup)}` };
    const defaults = q.required_default_count ?? q.default_feature_count ?? 0;
    if (defaults > 0) return { verdict: 'block', reason: `zero_tolerance_defaults_${defaults}` };
  } else {
    return { verdict: 'block', reason: 'no_features_available' };
  }
  const threshold = GATE_THRESHOLDS[input.mode];
  const score = q.feature_quality_score ?? 0;
  if (score >= threshold) return { verdict: 'predict', reason: 'quality_sufficient' };
  return { verdict: 'skip', reason: `quality_below_threshold_${threshold}` };
}

function formatPct(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export interface PlayerGate {
  publish: boolean;
  /** The reason recorded for the player: the first predicting model's, else the champion's (or the first model's). */
  decision: GateDecision;
  perModel: Map<string, GateDecision>;
}

/** Gates one player for every model; `systems` lists the champion first. */
export function gatePlayer(
  systems: readonly string[],
  existing: ReadonlyMap<string, ReadonlySet<string>>,
  player: string,
  quality: FeatureQuality | undefined,
  mode: RunMode,
  replacing = false,
): PlayerGate {
  const perModel = new Map<string, GateDecision>();
  let firstPredict: GateDecision | undefined;
  for (const system of systems) {
    const decision = gateModel({ alreadyPredicted: existing.get(system)?.has(player) ?? false, quality, mode, replacing });
    perModel.set(system, decision);
    if (decision.verdict === 'predict' && !firstPredict) firstPredict = decision;
  }
  const first = systems[0];
  const fallback = (first !== undefined ? perModel.get(first) : undefined) ?? { verdict: 'block' as const, reason: 'no_models_enabled' };
  return { publish: firstPredict !== undefined, decision: firstPredict ?? fallback, perModel };
}
