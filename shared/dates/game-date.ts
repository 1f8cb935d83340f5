/**
 * Game dates are calendar days in America/New_York, as 'YYYY-MM-DD'. Helpers are module-level (the original lost an hourly
 * run to a function-local import in the TOMORROW branch).
 */
import { z } from 'zod';

export const GAME_TIMEZONE = 'America/New_York';
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

const etFormatter = new Intl.DateTimeFormat('en-CA', {
  timeZone: GAME_TIMEZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar day in New York at instant `now`. */
export function etDate(now: Date): string {
  return etFormatter.format(now); // en-CA formats as YYYY-MM-DD
}

/** A real calendar date `YYYY-MM-DD` (2026-12-32 and 2027-02-30 are refused): the one date check of every route and message. */
export const isoDateSchema = z.string().refine(isValidIsoDate, { message: 'expected a real calendar date YYYY-MM-DD' });

export function isValidIsoDate(value: string): boolean {
  if (!DATE_PATTERN.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/**
 * Which dates a request may name: 90 days back … 14 ahead (the original's guard against a mistyped date). A backfill
 * (`prediction_run_mode: BACKFILL`) may go back a year, so a whole season can be re-predicted.
 */
export const DATE_WINDOW = { daysBack: 90, daysAhead: 14, backfillDaysBack: 366 } as const;

export type DateResolution = { ok: true; date: string } | { ok: false; error: string };

/**
 * Resolves `TODAY`, `TOMORROW` (New York) or an explicit `YYYY-MM-DD`, and checks it lies within 90 days back (a year for a
 * backfill) … 14 ahead. `undefined` means today.
 */
export function resolveGameDate(input: string | undefined, now: Date, opts: { backfill?: boolean } = {}): DateResolution {
  const today = etDate(now);
  let date: string;
  if (input === undefined || input === 'TODAY') date = today;
  else if (input === 'TOMORROW') date = addDays(today, 1);
  else if (isValidIsoDate(input)) date = input;
  else return { ok: false, error: `game_date '${input}' is not TODAY, TOMORROW or a valid YYYY-MM-DD date` };
  const offset = daysBetween(today, date);
  const daysBack = opts.backfill ? DATE_WINDOW.backfillDaysBack : DATE_WINDOW.daysBack;
  if (offset < -daysBack) {
    const hint = opts.backfill ? '' : `; a backfill (prediction_run_mode BACKFILL) may go back ${DATE_WINDOW.backfillDaysBack} days`;
    return { ok: false, error: `game_date ${date} is more than ${daysBack} days in the past (today is ${today} ET)${hint}` };
  }
  if (offset > DATE_WINDOW.daysAhead) {
    return { ok: false, error: `game_date ${date} is more than ${DATE_WINDOW.daysAhead} days ahead (today is ${today} ET)` };
  }
  return { ok: true, date };
}
