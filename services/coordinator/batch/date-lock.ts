/**
 * One consolidation per game date at a time, across every coordinator instance: a lease-style lock in the batch store.
 * The caller polls with capped exponential backoff until the lock is free (or expired) and gives up with a clear error
 * after `waitMs`. The TTL bounds how long a crashed holder blocks the date; it must exceed the longest consolidation.
 */
import type { BatchStore } from '../../../shared/ports/batch-store.js';
import { AppError } from '../../../shared/errors/app-error.js';

export interface DateLockTiming {
  /** How long a holder keeps the lock without releasing it (a crashed holder blocks the date this long at most). */
  ttlMs: number;
  /** How long to wait for a busy lock before giving up. */
  waitMs: number;
}

/** Consolidation runs inside a push request (ack deadline ≤ 600 s): wait less than that, hold longer than a merge takes. */
export const DEFAULT_DATE_LOCK: DateLockTiming = { ttlMs: 10 * 60_000, waitMs: 8 * 60_000 };

const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 2_000;

export interface DateLockOptions extends DateLockTiming {
  /** Waits between attempts (tests inject a fake); real time, so a hand-moved clock cannot stall the wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Told when the release after the work fails (the lock then lapses at its TTL); the work's result still stands. */
  onReleaseError: (err: unknown) => void;
}

export type DateLockStore = Pick<BatchStore, 'acquireDateLock' | 'releaseDateLock'>;

export const DATE_LOCK_TIMEOUT = 'DATE_LOCK_TIMEOUT';

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withDateLock<T>(store: DateLockStore, key: string, holder: string, work: () => Promise<T>, opts: DateLockOptions): Promise<T> {
  const sleep = opts.sleep ?? realSleep;
  let waited = 0;
  let delay = FIRST_POLL_MS;
  while (!(await store.acquireDateLock(key, holder, opts.ttlMs))) {
    if (waited >= opts.waitMs) {
      throw new AppError(DATE_LOCK_TIMEOUT, `date lock ${key}: still held by another holder after waiting ${waited} ms (${holder} gave up)`, {
        httpStatus: 503,
        details: { key, holder, waited_ms: waited },
      });
    }
    const step = Math.min(delay, opts.waitMs - waited);
    await sleep(step);
    waited += step;
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
  try {
    return await work();
  } finally {
    try {
      await store.releaseDateLock(key, holder);
    } catch (err) {
      opts.onReleaseError(err);
    }
  }
}
