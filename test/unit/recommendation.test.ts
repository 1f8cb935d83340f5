import { describe, expect, it } from 'vitest';
import {
  type ActionableInput,
  actionable,
  clampPrediction,
  confidence,
  directionGuard,
  recommend,
  scoringTier,
} from '../../services/worker/predict/recommendation.js';

describe('recommendation by family', () => {
  it('v9: OVER/UNDER from an edge of exactly 1.0, PASS inside it', () => {
    expect(recommend('v9', null, 21.0, 20.0)).toBe('OVER');
    expect(recommend('v9', null, 19.0, 20.0)).toBe('UNDER');
    expect(recommend('v9', null, 20.99, 20.0)).toBe('PASS');
    expect(recommend('v9', null, 19.01, 20.0)).toBe('PASS');
  });

  it('v12: 3.0, or 4.0 for a quantile model; HOLD inside', () => {
    expect(recommend('v12', null, 23.0, 20.0)).toBe('OVER');
    expect(recommend('v12_noveg', null, 22.9, 20.0)).toBe('HOLD');
    expect(recommend('v12', 0.43, 23.5, 20.0)).toBe('HOLD');
    expect(recommend('v12', 0.43, 24.0, 20.0)).toBe('OVER');
    expect(recommend('v12_noveg', 0.43, 16.0, 20.0)).toBe('UNDER');
  });

  it('no line → NO_LINE for every family', () => {
    expect(recommend('v9', null, 20, null)).toBe('NO_LINE');
    expect(recommend('v12', 0.43, 20, null)).toBe('NO_LINE');
  });

  it('clamps to [0, 60]', () => {
    expect(clampPrediction(-3)).toBe(0);
    expect(clampPrediction(75)).toBe(60);
    expect(clampPrediction(22.4)).toBe(22.4);
  });

  it('confidence formulas per family, including the 89 that lands in the 88–90 filter band', () => {
    expect(confidence('v9', 92, 3)).toBe(95);
    expect(confidence('v9', 85, 5)).toBe(89);
    expect(confidence('v12', 85, 7)).toBe(82);
    expect(confidence('v12', 60, 9)).toBe(75);
  });

  it('the direction guard corrects OVER/UNDER that disagree with the sign and never touches PASS/HOLD', () => {
    expect(directionGuard('OVER', 18, 20)).toBe('UNDER');
    expect(directionGuard('UNDER', 22, 20)).toBe('OVER');
    expect(directionGuard('PASS', 25, 20)).toBe('PASS');
    expect(directionGuard('HOLD', 10, 20)).toBe('HOLD');
  });
});

describe('is_actionable filter chain, in order', () => {
  const base: ActionableInput = {
    systemId: 'shadow',
    championId: 'champ',
    recommendation: 'OVER',
    predicted: 26,
    line: 20,
    confidence: 95,
    seasonAvg: 20,
    last5Avg: 20,
    isQualityReady: true,
    requiredDefaults: 0,
  };
  const reason = (patch: Partial<ActionableInput>) => actionable({ ...base, ...patch }).filterReason;

  it('passes a clean high-edge OVER', () => {
    expect(actionable(base)).toEqual({ isActionable: true, filterReason: null });
  });
  it('names the first filter that applies', () => {
    expect(reason({ confidence: 89 })).toBe('confidence_tier_88_90');
    expect(reason({ predicted: 22.5 })).toBe('low_edge');
    expect(reason({ systemId: 'champ', recommendation: 'UNDER', predicted: 16 })).toBe('stale_model_under_dampening');
    expect(reason({ recommendation: 'UNDER', predicted: 14, seasonAvg: 27, last5Avg: 27 })).toBe('star_under_bias_suspect');
    expect(reason({ systemId: 'x_q43', recommendation: 'UNDER', predicted: 14, seasonAvg: 27, last5Avg: 27 })).toBe(null);
    expect(reason({ recommendation: 'UNDER', predicted: 16, seasonAvg: 12, last5Avg: 12 })).toBe('role_player_under_low_edge');
    expect(reason({ recommendation: 'UNDER', predicted: 14, seasonAvg: 20, last5Avg: 24 })).toBe('hot_streak_under_risk');
    expect(reason({ isQualityReady: false })).toBe('not_quality_ready');
    expect(reason({ isQualityReady: null })).toBe('not_quality_ready');
    expect(reason({ requiredDefaults: 1 })).toBe('has_default_features');
  });
  it('a row without a line or without a direction is never actionable', () => {
    expect(reason({ line: null })).toBe('no_line');
    expect(reason({ recommendation: 'PASS' })).toBe('no_recommendation');
  });
  it('scoring tiers', () => {
    expect([scoringTier(25), scoringTier(15), scoringTier(5), scoringTier(4.9), scoringTier(undefined)]).toEqual([
      'star',
      'starter',
      'role',
      'bench',
      'starter',
    ]);
  });
});
