/**
 * The CLI's wait between two status polls of a batch it follows (bin/predict/follow.ts): a tenth of how long it has
 * followed the batch, never less than 200 ms and never more than `--interval`.
 */
import { describe, expect, it } from 'vitest';
import { MIN_POLL_MS, nextPollMs } from '../../bin/predict/follow.js';

describe('nextPollMs', () => {
  it('polls a young batch every 200 ms, so a two-second batch is seen ending within a fifth of a second', () => {
    expect(MIN_POLL_MS).toBe(200);
    expect(nextPollMs(0, 2000)).toBe(200);
    expect(nextPollMs(1000, 2000)).toBe(200);
    expect(nextPollMs(2000, 2000)).toBe(200);
    expect(nextPollMs(2500, 2000)).toBe(250);
  });

  it('waits a tenth of the time followed so far, up to --interval', () => {
    expect(nextPollMs(4000, 2000)).toBe(400);
    expect(nextPollMs(19_990, 2000)).toBe(1999);
    expect(nextPollMs(20_000, 2000)).toBe(2000);
    expect(nextPollMs(600_000, 2000)).toBe(2000);
    expect(nextPollMs(600_000, 30_000)).toBe(30_000);
  });

  it('never waits longer than --interval, even when it is shorter than the floor', () => {
    expect(nextPollMs(0, 20)).toBe(20);
    expect(nextPollMs(10_000, 50)).toBe(50);
  });

  it('sees a batch end at most a tenth of its age (at least 200 ms, at most --interval) late, with few polls', () => {
    // The loop: poll at t, then wait nextPollMs(t); the batch ends at `endMs`; the first poll at or after it sees the end.
    const follow = (endMs: number, intervalMs: number) => {
      let t = 0;
      let polls = 1;
      while (t < endMs) {
        t += nextPollMs(t, intervalMs);
        polls++;
      }
      return { lag: t - endMs, polls };
    };
    for (const endMs of [150, 1_100, 2_700, 9_000, 61_000, 600_000]) {
      const { lag, polls } = follow(endMs, 2000);
      expect(lag).toBeLessThanOrEqual(Math.min(2000, Math.max(200, endMs / 10)));
      // At most 10 polls in the first 2 s, ≈ 24 while the wait grows to --interval, then one per --interval.
      expect(polls).toBeLessThanOrEqual(Math.ceil(endMs / 2000) + 36);
    }
    // Before: a fixed 2-second wait saw a 2.1-second batch 1.9 s late; now within 0.21 s.
    expect(follow(2_100, 2000).lag).toBeLessThanOrEqual(210);
  });
});
