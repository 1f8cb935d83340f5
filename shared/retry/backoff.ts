/**
 * The one backoff helper for every retry loop in the project that is not BigQuery's job-id retry: bounded, exponential,
 * with "equal jitter" (half the base plus a random part of the other half) so concurrent retriers spread out.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffPolicy {
  /** Attempts in all, the first included. 1 = never retry. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Growth per attempt; default 2. */
  multiplier?: number;
}

/** Delay before attempt `attempt + 1` after `attempt` failed. */
export function backoffDelay(policy: Omit<BackoffPolicy, 'attempts'>, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * (policy.multiplier ?? 2) ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + random() * (base / 2));
}

export interface RetryOptions extends BackoffPolicy {
  /** Whether this failure is worth another attempt; default: every failure. */
  retryIf?: (err: unknown) => boolean;
  /** Told before each wait. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Waits (tests inject a fake). */
  wait?: (ms: number) => Promise<unknown>;
}

/** Runs `work` until it succeeds, the failure is not retryable, or the attempts run out (then the last error is thrown). */
export async function withRetry<T>(work: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const wait = opts.wait ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || (opts.retryIf && !opts.retryIf(err))) throw err;
      const delay = backoffDelay(opts, attempt);
      opts.onRetry?.(err, attempt, delay);
      await wait(delay);
    }
  }
}

/**
 * Polls `check` until it returns a value other than undefined or `budgetMs` has passed (then undefined), waiting with the
 * policy's backoff between checks — a bounded wait for something eventually true (a lock, rows becoming visible).
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  opts: { budgetMs: number; initialDelayMs: number; maxDelayMs: number; wait?: (ms: number) => Promise<unknown>; now?: () => number },
): Promise<{ value: T | undefined; waitedMs: number; checks: number }> {
  const wait = opts.wait ?? sleep;
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    const value = await check();
    if (value !== undefined || waited >= opts.budgetMs) return { value, waitedMs: waited, checks: attempt };
    const delay = Math.min(backoffDelay(opts, attempt), opts.budgetMs - waited);
    await wait(delay);
    waited += delay;
  }
}
