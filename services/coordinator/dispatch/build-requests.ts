/** Builds the per-player prediction requests and outcomes from the loaded data; pure, so every rule is unit-testable. */
import type { PlayerOutcome } from '../../../shared/batch/batch-record.js';
import type { PlayerRequestInput } from '../../../shared/contracts/messages.js';
import type { Candidate } from './player-query.js';
import type { LineLookup } from './line-queries.js';
import type { FeatureRow } from '../../../shared/queries/feature-rows.js';
import type { EnabledModels } from './models-query.js';
import { referenceLine, shapeLine } from './line-shaping.js';
import { injuryFields, injuryVerdict, type InjuryReport } from './injury-query.js';
import { gatePlayer, type GateVerdict } from './quality-gate.js';
import type { RunMode } from './run-modes.js';

export interface BuildInput {
  batchId: string;
  gameDate: string;
  /** The gate's mode. */
  mode: RunMode;
  /** Re-predicting to replace the active rows (line check, line update, regeneration): "already predicted" does not skip. */
  replacing?: boolean;
  requireRealLines: boolean;
  useMultipleLines: boolean;
  candidates: readonly Candidate[];
  lines: LineLookup;
  features: ReadonlyMap<string, FeatureRow>;
  models: EnabledModels;
  /** Latest injury report per player, and when it was read. */
  injuries: ReadonlyMap<string, InjuryReport>;
  injuriesCheckedAt: string;
}

export interface BuiltRequests {
  /** One per published player (the coordinator groups them into messages). */
  requests: PlayerRequestInput[];
  /** One per candidate; published players start as `published` and become `publish_failed` if the bus fails them. */
  outcomes: PlayerOutcome[];
  perModel: Record<string, Record<GateVerdict, number>>;
  /** Requests before the quality gate (the original's `total_requests`): candidates not dropped for lacking a real line. */
  totalRequests: number;
}

export function buildRequests(input: BuildInput): BuiltRequests {
  const requests: PlayerRequestInput[] = [];
  const outcomes: PlayerOutcome[] = [];
  const perModel: Record<string, Record<GateVerdict, number>> = {};
  let totalRequests = 0;
  for (const system of input.models.systems) perModel[system] = { predict: 0, skip: 0, block: 0 };

  for (const c of input.candidates) {
    const shaped = shapeLine(input.lines.lines.get(c.player_lookup), input.useMultipleLines);
    const base: Omit<PlayerOutcome, 'outcome' | 'reason'> = {
      player_lookup: c.player_lookup,
      game_id: c.game_id,
      line_source: shaped.line_source,
      line_value: shaped.base_line,
      sportsbook: shaped.sportsbook,
    };
    if (shaped.line_source === 'NO_PROP_LINE' && input.requireRealLines) {
      const why = input.lines.missing.get(c.player_lookup);
      outcomes.push({ ...base, outcome: 'skipped', reason: `no_prop_line${why ? ` (${why.reason})` : ''}` });
      continue;
    }
    totalRequests++;
    const injury = input.injuries.get(c.player_lookup);
    if (injuryVerdict(injury?.status) === 'skip') {
      outcomes.push({ ...base, outcome: 'skipped', reason: 'player_injury_out' });
      continue;
    }
    const featureRow = input.features.get(c.player_lookup);
    const gate = gatePlayer(
      input.models.systems,
      input.models.existing,
      c.player_lookup,
      featureRow?.quality,
      input.mode,
      input.replacing ?? false,
    );
    for (const [system, decision] of gate.perModel) {
      const counts = perModel[system];
      if (counts) counts[decision.verdict]++;
    }
    if (!gate.publish) {
      outcomes.push({ ...base, outcome: gate.decision.verdict === 'block' ? 'blocked' : 'skipped', reason: gate.decision.reason });
      continue;
    }
    outcomes.push({ ...base, outcome: 'published', reason: gate.decision.reason });
    requests.push({
      game_id: c.game_id,
      player_lookup: c.player_lookup,
      team_abbr: c.team_abbr,
      opponent_team_abbr: c.opponent_team_abbr,
      is_home: c.is_home,
      line_values: shaped.line_values,
      line_source: shaped.line_source,
      line_source_api: shaped.line_source_api,
      sportsbook: shaped.sportsbook,
      was_line_fallback: shaped.was_line_fallback,
      line_minutes_before_game: shaped.line_minutes_before_game,
      universal_player_id: c.universal_player_id,
      estimated_line_value: referenceLine(c.points_avg_last_5),
      ...injuryFields(injury, input.injuriesCheckedAt),
      ...(featureRow ? { features: featureRow.values, feature_quality: featureRow.quality, days_rest: featureRow.days_rest } : {}),
    });
  }
  return { requests, outcomes, perModel, totalRequests };
}
