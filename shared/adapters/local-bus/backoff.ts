/**
 * Retry delay after the `failedAttempts`-th nack: min·2^(n−1), capped at max, with ±20 % jitter, kept within [min, max].
 */
export function computeBackoffMs(failedAttempts: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const base = Math.min(maxMs, minMs * 2 ** Math.min(exponent, 30));
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.min(maxMs, Math.max(minMs, jittered)));
}
