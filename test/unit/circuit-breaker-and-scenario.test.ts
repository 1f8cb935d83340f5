import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../services/worker/models/circuit-breaker.js';
import { classifyScenario } from '../../services/worker/predict/scenario.js';
import { ManualClock } from '../../shared/ports/clock.js';

describe('per-model circuit breaker', () => {
  it('opens after 5 consecutive failures, lets one trial through after the cool-down, and closes on its success', () => {
    const clock = new ManualClock(new Date('2026-11-22T12:00:00Z'));
    const breaker = new CircuitBreaker(clock, 5, 60_000);
    for (let i = 0; i < 4; i++) {
      expect(breaker.allow()).toBe(true);
      breaker.failure('boom');
    }
    breaker.success(); // a success resets the run of failures
    for (let i = 0; i < 5; i++) breaker.failure('boom');
    expect(breaker.view()).toMatchObject({
      state: 'open',
      consecutive_failures: 5,
      last_error: 'boom',
      retry_at: '2026-11-22T12:01:00.000Z',
    });
    expect(breaker.allow()).toBe(false);
    clock.advance(60_000);
    expect(breaker.allow()).toBe(true);
    expect(breaker.view().state).toBe('half_open');
    expect(breaker.allow()).toBe(false); // one trial at a time
    breaker.failure('still broken');
    expect(breaker.view().state).toBe('open');
    clock.advance(60_000);
    expect(breaker.allow()).toBe(true);
    breaker.success();
    expect(breaker.view()).toMatchObject({ state: 'closed', consecutive_failures: 0 });
  });
});

describe('scenario category', () => {
  const s = (
    rec: 'OVER' | 'UNDER' | 'PASS' | 'NO_LINE',
    pred: number,
    line: number | null,
    player = 'someone',
    opp: string | null = 'BOS',
  ) => classifyScenario(rec, pred, line, player, opp).category;
  it('classifies by direction, edge and line', () => {
    expect(s('NO_LINE', 20, null)).toBe('unknown');
    expect(s('OVER', 22, 20)).toBe('low_edge');
    expect(s('OVER', 16, 10.5)).toBe('optimal_over');
    expect(s('OVER', 28, 20.5)).toBe('ultra_high_edge_over');
    expect(s('OVER', 26, 20.5)).toBe('high_edge_over');
    expect(s('OVER', 24, 20.5)).toBe('standard_over');
    expect(s('UNDER', 9, 14.5)).toBe('anti_under_low_line');
    expect(s('UNDER', 20, 25.5)).toBe('optimal_under');
    expect(s('UNDER', 20, 25.5, 'lukadoncic')).toBe('under_risky');
    expect(s('UNDER', 17, 21.5)).toBe('under_safe');
    expect(s('UNDER', 17, 21.5, 'someone', 'DEN')).toBe('under_risky');
    expect(s('UNDER', 13, 17.5)).toBe('standard_under');
    expect(s('PASS', 24, 20.5)).toBe('non_actionable');
  });
  it('flags the risky opponent from the request (the original never set it)', () => {
    expect(classifyScenario('UNDER', 17, 21.5, 'x', 'mia').flags).toEqual({
      edge: 4.5,
      line_value: 21.5,
      blacklisted_player: false,
      risky_opponent: true,
      anti_pattern: false,
    });
  });
});
