/** Counts for the batch summary: lines by source and sportsbook, outcomes by kind and reason, and input-health warnings. */
import type { PlayerOutcome } from '../../../shared/ports/batch-store.js';
import type { LineLookup } from './line-queries.js';
import type { FeatureRow } from '../../../shared/queries/feature-rows.js';

export interface LineSummary {
  by_source: Record<string, number>;
  by_sportsbook: Record<string, number>;
  no_line_reasons: Record<string, number>;
}

export function summariseLines(players: readonly string[], lookup: LineLookup): LineSummary {
  const by_source: Record<string, number> = { ODDS_API: 0, BETTINGPROS: 0, NO_PROP_LINE: 0 };
  const by_sportsbook: Record<string, number> = {};
  const no_line_reasons: Record<string, number> = {};
  for (const p of players) {
    const line = lookup.lines.get(p);
    if (line) {
      inc(by_source, line.line_source_api);
      inc(by_sportsbook, `${line.line_source_api}:${line.sportsbook}`);
    } else {
      inc(by_source, 'NO_PROP_LINE');
      inc(no_line_reasons, lookup.missing.get(p)?.reason ?? 'unknown');
    }
  }
  return { by_source, by_sportsbook, no_line_reasons };
}

export function summariseOutcomes(outcomes: readonly PlayerOutcome[]): {
  by_outcome: Record<string, number>;
  by_reason: Record<string, number>;
} {
  const by_outcome: Record<string, number> = { published: 0, skipped: 0, blocked: 0, publish_failed: 0 };
  const by_reason: Record<string, number> = {};
  for (const o of outcomes) {
    inc(by_outcome, o.outcome);
    inc(by_reason, reasonFamily(o.reason));
  }
  return { by_outcome, by_reason };
}

/** Counting key of a reason: the exact reason stays on the player's outcome; counts group the per-value variants. */
export function reasonFamily(reason: string): string {
  return reason
    .replace(/ \(.*\)$/, '')
    .replace(/^hard_floor_matchup_[\d.]+$/, 'hard_floor_matchup_below_50')
    .replace(/^publish_failed: .*$/, 'publish_failed');
}

/** Input-health warnings (logged and summarised, never blocking). */
export function inputHealth(lines: LineSummary, players: number, features: ReadonlyMap<string, FeatureRow>): string[] {
  const warnings: string[] = [];
  if (players === 0) return warnings;
  const noLine = lines.by_source.NO_PROP_LINE ?? 0;
  if (noLine / players > 0.1) warnings.push(`${pct(noLine, players)} of players have no line (threshold 10%)`);
  const odds = lines.by_source.ODDS_API ?? 0;
  const bp = lines.by_source.BETTINGPROS ?? 0;
  if (bp > odds) warnings.push(`BettingPros supplied more lines (${bp}) than OddsAPI (${odds}): OddsAPI may be degraded`);
  const withLine = odds + bp;
  if (withLine > 0) {
    let dkfd = 0;
    for (const [key, n] of Object.entries(lines.by_sportsbook)) if (/:(DRAFTKINGS|FANDUEL)$/.test(key)) dkfd += n;
    if (dkfd / withLine < 0.5) warnings.push(`DraftKings+FanDuel supply ${pct(dkfd, withLine)} of lines (threshold 50%)`);
  }
  if (features.size > 0) {
    let none = 0;
    for (const row of features.values()) if ((row.quality.vegas_line_source ?? 'none') === 'none') none++;
    if (none / features.size > 0.5)
      warnings.push(`feature store vegas source is 'none' for ${pct(none, features.size)} of players (threshold 50%)`);
  }
  return warnings;
}

const pct = (n: number, d: number): string => `${Math.round((n / d) * 1000) / 10}%`;

function inc(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}
