import { describe, expect, it } from 'vitest';
import { gateModel, gatePlayer } from '../../services/coordinator/dispatch/quality-gate.js';
import { effectiveRunMode, parseRunMode } from '../../services/coordinator/dispatch/run-modes.js';
import type { FeatureQuality } from '../../shared/contracts/messages.js';

const good: FeatureQuality = {
  feature_quality_score: 92,
  is_quality_ready: true,
  quality_alert_level: 'green',
  matchup_quality_pct: 90,
  default_feature_count: 0,
  required_default_count: 0,
  vegas_line_source: 'odds_api',
};

describe('quality gate rule order', () => {
  it('already predicted wins over every other rule, except in LINE_UPDATE', () => {
    const red = { ...good, quality_alert_level: 'red' };
    expect(gateModel({ alreadyPredicted: true, quality: red, mode: 'RETRY' })).toEqual({
      verdict: 'skip',
      reason: 'already_has_prediction',
    });
    expect(gateModel({ alreadyPredicted: true, quality: red, mode: 'LINE_UPDATE' })).toEqual({
      verdict: 'block',
      reason: 'hard_floor_red_alert',
    });
  });

  it('a batch that replaces the active rows (line check, regeneration) is not skipped for them, and keeps every floor', () => {
    expect(gateModel({ alreadyPredicted: true, quality: good, mode: 'LINE_CHECK' })).toEqual({
      verdict: 'skip',
      reason: 'already_has_prediction',
    });
    expect(gateModel({ alreadyPredicted: true, quality: good, mode: 'LINE_CHECK', replacing: true })).toEqual({
      verdict: 'predict',
      reason: 'quality_sufficient',
    });
    expect(gateModel({ alreadyPredicted: true, quality: { ...good, matchup_quality_pct: 40 }, mode: 'RETRY', replacing: true })).toEqual({
      verdict: 'block',
      reason: 'hard_floor_matchup_40',
    });
    expect(gateModel({ alreadyPredicted: true, quality: { ...good, feature_quality_score: 80 }, mode: 'RETRY', replacing: true })).toEqual({
      verdict: 'skip',
      reason: 'quality_below_threshold_85',
    });
  });

  it('red alert comes before low matchup, which comes before required defaults', () => {
    const all = { ...good, quality_alert_level: 'RED', matchup_quality_pct: 30, required_default_count: 2 };
    expect(gateModel({ alreadyPredicted: false, quality: all, mode: 'RETRY' }).reason).toBe('hard_floor_red_alert');
    expect(gateModel({ alreadyPredicted: false, quality: { ...all, quality_alert_level: 'yellow' }, mode: 'RETRY' }).reason).toBe(
      'hard_floor_matchup_30',
    );
    expect(
      gateModel({ alreadyPredicted: false, quality: { ...all, quality_alert_level: 'yellow', matchup_quality_pct: 50 }, mode: 'RETRY' })
        .reason,
    ).toBe('zero_tolerance_defaults_2');
  });

  it('a player without a feature row is blocked', () => {
    expect(gateModel({ alreadyPredicted: false, quality: undefined, mode: 'LAST_CALL' })).toEqual({
      verdict: 'block',
      reason: 'no_features_available',
    });
  });

  it('thresholds follow the mode: 85 for RETRY, 80 for FINAL_RETRY, 70 for LAST_CALL and BACKFILL', () => {
    const q = (score: number) => ({ ...good, feature_quality_score: score });
    expect(gateModel({ alreadyPredicted: false, quality: q(85), mode: 'RETRY' }).verdict).toBe('predict');
    expect(gateModel({ alreadyPredicted: false, quality: q(84.99), mode: 'RETRY' })).toEqual({
      verdict: 'skip',
      reason: 'quality_below_threshold_85',
    });
    expect(gateModel({ alreadyPredicted: false, quality: q(80), mode: 'FINAL_RETRY' }).verdict).toBe('predict');
    expect(gateModel({ alreadyPredicted: false, quality: q(70), mode: 'LAST_CALL' }).verdict).toBe('predict');
    expect(gateModel({ alreadyPredicted: false, quality: q(69.9), mode: 'BACKFILL' }).reason).toBe('quality_below_threshold_70');
  });

  it('a player is published when any model says predict (union over models)', () => {
    const existing = new Map([
      ['champ', new Set(['p1'])],
      ['shadow', new Set<string>()],
    ]);
    const gate = gatePlayer(['champ', 'shadow'], existing, 'p1', good, 'RETRY');
    expect(gate.publish).toBe(true);
    expect(gate.perModel.get('champ')?.reason).toBe('already_has_prediction');
    expect(gate.decision.reason).toBe('quality_sufficient');
    const none = gatePlayer(
      ['champ', 'shadow'],
      new Map([
        ['champ', new Set(['p1'])],
        ['shadow', new Set(['p1'])],
      ]),
      'p1',
      good,
      'RETRY',
    );
    expect(none).toMatchObject({ publish: false, decision: { reason: 'already_has_prediction' } });
  });
});

describe('run modes', () => {
  it('maps legacy names as the original does, case-insensitively', () => {
    expect(parseRunMode('early')).toBe('FIRST');
    expect(parseRunMode('PRE_GAME')).toBe('FIRST');
    expect(parseRunMode('Overnight')).toBe('RETRY');
    expect(parseRunMode('SAME_DAY')).toBe('RETRY');
    expect(parseRunMode('MORNING')).toBe('RETRY');
    expect(parseRunMode('bogus')).toBeUndefined();
  });

  it('require_real_lines forces FIRST; BACKFILL for a future date becomes RETRY', () => {
    expect(effectiveRunMode('LAST_CALL', { requireRealLines: true, gameDate: '2026-11-22', today: '2026-11-22' })).toBe('FIRST');
    expect(effectiveRunMode('BACKFILL', { requireRealLines: false, gameDate: '2026-11-23', today: '2026-11-22' })).toBe('RETRY');
    expect(effectiveRunMode('BACKFILL', { requireRealLines: false, gameDate: '2026-11-20', today: '2026-11-22' })).toBe('BACKFILL');
  });
});
