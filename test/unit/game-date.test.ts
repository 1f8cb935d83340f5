import { describe, expect, it } from 'vitest';
import { etDate, resolveGameDate } from '../../shared/dates/game-date.js';

// 2026-11-22 03:30 UTC is still 2026-11-21 in New York (UTC−5).
const lateEvening = new Date('2026-11-22T03:30:00Z');

describe('game date resolution (America/New_York)', () => {
  it('when the UTC day has rolled over but New York has not, TODAY is the New York day', () => {
    expect(etDate(lateEvening)).toBe('2026-11-21');
    expect(resolveGameDate('TODAY', lateEvening)).toEqual({ ok: true, date: '2026-11-21' });
    expect(resolveGameDate(undefined, lateEvening)).toEqual({ ok: true, date: '2026-11-21' });
  });

  it('TOMORROW is the next New York day, across a month end', () => {
    expect(resolveGameDate('TOMORROW', new Date('2026-11-30T20:00:00Z'))).toEqual({ ok: true, date: '2026-12-01' });
  });

  it('accepts an explicit date inside the window and names the problem outside it', () => {
    const now = new Date('2026-11-22T15:00:00Z');
    expect(resolveGameDate('2026-08-24', now)).toEqual({ ok: true, date: '2026-08-24' }); // exactly 90 days back
    expect(resolveGameDate('2026-08-23', now)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/more than 90 days in the past .*a backfill \(prediction_run_mode BACKFILL\) may go back 366 days/),
    });
    // A backfill may re-predict a season: a year back, not a day more.
    expect(resolveGameDate('2026-08-23', now, { backfill: true })).toEqual({ ok: true, date: '2026-08-23' });
    expect(resolveGameDate('2025-11-21', now, { backfill: true })).toEqual({ ok: true, date: '2025-11-21' }); // exactly 366 days back
    expect(resolveGameDate('2025-11-20', now, { backfill: true })).toMatchObject({
      ok: false,
      error: expect.stringContaining('more than 366 days in the past'),
    });
    expect(resolveGameDate('2026-12-06', now)).toEqual({ ok: true, date: '2026-12-06' }); // 14 ahead
    expect(resolveGameDate('2026-12-07', now)).toMatchObject({ ok: false, error: expect.stringContaining('more than 14 days ahead') });
  });

  it('rejects malformed and impossible dates and lower-case keywords', () => {
    const now = new Date('2026-11-22T15:00:00Z');
    for (const bad of ['2026-02-30', '2026-1-5', 'today', '22/11/2026', '']) {
      expect(resolveGameDate(bad, now)).toMatchObject({ ok: false });
    }
  });
});
