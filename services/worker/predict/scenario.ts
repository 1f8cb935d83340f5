/**
 * Scenario metadata on every row (original-worker §2.13.5): a category describing the bet, flags, and the scoring tier's
 * adjustment. The risky-opponent check works here: the request carries the opponent (the original never set it, so the
 * check never fired — quirk Q11).
 */
import type { Recommendation } from './recommendation.js';

export const UNDER_BLACKLIST: ReadonlySet<string> = new Set([
  'lukadoncic',
  'juliusrandle',
  'jarenjacksonjr',
  'lamelloball',
  'dillonbrooks',
  'michaelporterjr',
]);
export const RISKY_UNDER_OPPONENTS: ReadonlySet<string> = new Set(['PHI', 'MIN', 'DET', 'MIA', 'DEN']);

export const TIER_ADJUSTMENT = { star: 9.0, starter: 3.0, role: -1.5, bench: -5.5 } as const;

export interface Scenario {
  category: string;
  flags: { edge: number | null; line_value: number | null; blacklisted_player: boolean; risky_opponent: boolean; anti_pattern: boolean };
}

export function classifyScenario(
  rec: Recommendation,
  predicted: number,
  line: number | null,
  player: string,
  opponent: string | null,
): Scenario {
  const blacklisted = UNDER_BLACKLIST.has(player);
  const risky = opponent !== null && RISKY_UNDER_OPPONENTS.has(opponent.toUpperCase());
  const edge = line === null ? null : Math.abs(predicted - line);
  const category = (() => {
    if (line === null || edge === null) return 'unknown';
    if (edge < 3) return 'low_edge';
    if (rec === 'OVER') {
      if (line < 12 && edge >= 5) return 'optimal_over';
      if (edge >= 7) return 'ultra_high_edge_over';
      if (edge >= 5) return 'high_edge_over';
      return 'standard_over';
    }
    if (rec === 'UNDER') {
      if (line < 15) return 'anti_under_low_line';
      if (line >= 25 && !blacklisted) return 'optimal_under';
      if (line >= 20 && !blacklisted && !risky) return 'under_safe';
      if (blacklisted || risky) return 'under_risky';
      return 'standard_under';
    }
    return 'non_actionable';
  })();
  return {
    category,
    flags: {
      edge: edge === null ? null : Math.round(edge * 100) / 100,
      line_value: line,
      blacklisted_player: blacklisted,
      risky_opponent: risky,
      anti_pattern: category === 'anti_under_low_line',
    },
  };
}
