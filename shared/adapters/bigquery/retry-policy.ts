/** Bounded exponential backoff with jitter, for the BigQuery adapter's own retries (the client library's are switched off). */

export interface RetryPolicy {
  /** Attempts in all, the first included. 1 = never retry. */
  maxAttempts: number;
  /** Base delay before the second attempt. */
  initialDelayMs: number;
  /** Cap on the base delay. */
  maxDelayMs: number;
  /** Growth of the base delay per attempt. */
  multiplier: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 30_000, multiplier: 2 };

export function retryPolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1)
    throw new Error(`retry.maxAttempts must be an integer ≥ 1, got ${policy.maxAttempts}`);
  if (!(policy.initialDelayMs >= 0) || !(policy.maxDelayMs >= policy.initialDelayMs)) {
    throw new Error(`retry delays must satisfy 0 ≤ initialDelayMs (${policy.initialDelayMs}) ≤ maxDelayMs (${policy.maxDelayMs})`);
  }
  if (!(policy.multiplier >= 1)) throw new Error(`retry.multiplier must be ≥ 1, got ${policy.multiplier}`);
  return policy;
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failed: base = min(max, initial × multiplier^(attempt−1)), then "equal
 * jitter" — half the base plus a random part of the other half — so concurrent retriers (two MERGEs that collided) spread out.
 */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + random() * (base / 2));
}
