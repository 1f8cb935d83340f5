import { describe, expect, it } from 'vitest';
import { inputHealth, reasonFamily, summariseLines } from '../../services/coordinator/dispatch/summarise.js';
import type { FoundLine } from '../../services/coordinator/dispatch/line-queries.js';
import type { FeatureRow } from '../../shared/queries/feature-rows.js';

const line = (api: 'ODDS_API' | 'BETTINGPROS', book: string): FoundLine => ({
  line_value: 20.5,
  sportsbook: book,
  line_source_api: api,
  was_line_fallback: book !== 'DRAFTKINGS',
  line_minutes_before_game: null,
});
const featureRow = (vegas: string | null): FeatureRow => ({
  values: {},
  quality: {
    feature_quality_score: 90,
    is_quality_ready: true,
    quality_alert_level: 'green',
    matchup_quality_pct: 90,
    default_feature_count: 0,
    required_default_count: 0,
    vegas_line_source: vegas,
  },
  days_rest: null,
});

describe('input health (warnings, never blocking)', () => {
  it('is quiet for a healthy slate', () => {
    const players = ['a', 'b', 'c', 'd'];
    const lookup = { lines: new Map(players.map((p) => [p, line('ODDS_API', 'DRAFTKINGS')])), missing: new Map() };
    expect(inputHealth(summariseLines(players, lookup), 4, new Map(players.map((p) => [p, featureRow('odds_api')])))).toEqual([]);
  });

  it('warns on missing lines, BettingPros above OddsAPI, thin DraftKings+FanDuel and a vegas-less feature store', () => {
    const players = ['a', 'b', 'c', 'd', 'e'];
    const lookup = {
      lines: new Map([
        ['a', line('BETTINGPROS', 'BETMGM')],
        ['b', line('BETTINGPROS', 'CAESARS')],
        ['c', line('ODDS_API', 'POINTSBET')],
      ]),
      missing: new Map([
        ['d', { reason: 'not offered' as const, detail: '' }],
        ['e', { reason: 'lines filtered out' as const, detail: '' }],
      ]),
    };
    const summary = summariseLines(players, lookup);
    expect(summary.no_line_reasons).toEqual({ 'not offered': 1, 'lines filtered out': 1 });
    const warnings = inputHealth(summary, 5, new Map(players.map((p) => [p, featureRow(p === 'a' ? 'odds_api' : null)])));
    expect(warnings).toEqual([
      '40% of players have no line (threshold 10%)',
      'BettingPros supplied more lines (2) than OddsAPI (1): OddsAPI may be degraded',
      'DraftKings+FanDuel supply 0% of lines (threshold 50%)',
      "feature store vegas source is 'none' for 80% of players (threshold 50%)",
    ]);
  });

  it('counts reasons by family while the player keeps the exact reason', () => {
    expect(reasonFamily('hard_floor_matchup_42.5')).toBe('hard_floor_matchup_below_50');
    expect(reasonFamily('no_prop_line (not offered)')).toBe('no_prop_line');
    expect(reasonFamily('publish_failed: timeout')).toBe('publish_failed');
    expect(reasonFamily('zero_tolerance_defaults_2')).toBe('zero_tolerance_defaults_2');
  });
});
