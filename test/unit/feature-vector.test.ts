import { describe, expect, it } from 'vitest';
import { FAMILY_FEATURES, FEATURE_NAMES, familyOf, type FeatureValues } from '../../shared/contracts/feature-contract.js';
import { buildVector } from '../../shared/contracts/feature-vector.js';
import { resolveVegas, requestLine } from '../../services/worker/predict/vegas.js';
import { validateFeatures } from '../../services/worker/predict/validate-features.js';

const full: FeatureValues = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i + 0.5]));

describe('feature contract and vectors', () => {
  it('has 55 names and families of 33, 54 and 50 in store order', () => {
    expect(FEATURE_NAMES).toHaveLength(55);
    expect(FAMILY_FEATURES.v9).toHaveLength(33);
    expect(FAMILY_FEATURES.v12).toHaveLength(54);
    expect(FAMILY_FEATURES.v12_noveg).toHaveLength(50);
    expect(FAMILY_FEATURES.v12_noveg).not.toContain('vegas_points_line');
    expect(FAMILY_FEATURES.v12_noveg[25]).toBe('avg_points_vs_opponent');
  });

  it('builds each vector by name, not by position', () => {
    const out = new Float32Array(50);
    buildVector('v12_noveg', full, out);
    expect(out[24]).toBeCloseTo(24.5); // team_win_pct (store index 24)
    expect(out[25]).toBeCloseTo(29.5); // avg_points_vs_opponent (store index 29) follows it
    expect(out[49]).toBeCloseTo(53.5); // line_vs_season_avg (store index 53)
  });

  it('missing optional features take their default; missing vegas is NaN; a missing base feature throws', () => {
    const partial: FeatureValues = { ...full };
    delete partial.vegas_points_line;
    delete partial.game_total_line;
    const out = new Float32Array(54);
    buildVector('v12', partial, out);
    expect(Number.isNaN(out[25] as number)).toBe(true);
    expect(out[38]).toBe(224);
    delete partial.points_avg_last_5;
    expect(() => buildVector('v9', partial, new Float32Array(33))).toThrow(/points_avg_last_5/);
  });

  it('maps registry feature_set to a family and refuses unknown ones', () => {
    expect(familyOf(null)).toBe('v9');
    expect(familyOf('v12_noveg')).toBe('v12_noveg');
    expect(familyOf('V12')).toBe('v12');
    expect(() => familyOf('v13')).toThrow(/unknown feature_set 'v13'/);
  });
});

describe('vegas line precedence', () => {
  const store: FeatureValues = { ...full, vegas_points_line: 18.5, vegas_opening_line: 18.0 };

  it('the request line wins and sets opening = line, move 0, has_vegas_line 1', () => {
    const r = resolveVegas(store, [22.5]);
    expect(r.source).toBe('coordinator_line');
    expect(r.values).toMatchObject({ vegas_points_line: 22.5, vegas_opening_line: 22.5, vegas_line_move: 0, has_vegas_line: 1 });
  });

  it('multi-line requests use the upper median of the valid lines', () => {
    expect(requestLine([20.5, 21.5, 22.5, 23.5, 24.5])).toBe(22.5);
    expect(requestLine([21, 22, null])).toBe(22);
  });

  it('without a request line the feature store values stand; without either, vegas is absent and has_vegas_line 0', () => {
    expect(resolveVegas(store, [null])).toMatchObject({
      source: 'feature_store',
      line: 18.5,
      values: { vegas_points_line: 18.5, has_vegas_line: 1 },
    });
    const none: FeatureValues = { ...full };
    delete none.vegas_points_line;
    const r = resolveVegas(none, [null]);
    expect(r.source).toBe('none');
    expect(r.values.vegas_points_line).toBeUndefined();
    expect(r.values.has_vegas_line).toBe(0);
  });
});

describe('feature validation', () => {
  it('names missing base features and out-of-range values', () => {
    expect(validateFeatures(full)).toMatch(/outside/); // opponent_def_rating 13.5 is out of [95,125]
    const ok: FeatureValues = { ...full, opponent_def_rating: 110, home_away: 1, back_to_back: 0, playoff_game: 0, fatigue_score: 50 };
    expect(validateFeatures(ok)).toBeNull();
    const missing = { ...ok };
    delete missing.pct_three;
    expect(validateFeatures(missing)).toBe('missing base features: pct_three');
  });
});
