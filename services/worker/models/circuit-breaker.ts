/**
 * A circuit breaker per model, in memory: after `failureThreshold` consecutive failures the model is taken out of rotation
 * for `cooldownMs`; then one trial call is let through (half-open): success closes the breaker, failure reopens it.
 * (The original kept breaker state in BigQuery and only ever consulted it for five legacy systems, so CatBoost models never
 * tripped — quirk Q4.)
 */
import type { Clock } from '../../../shared/ports/clock.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerView {
  state: BreakerState;
  consecutive_failures: number;
  opened_at: string | null;
  retry_at: string | null;
  last_error: string | null;
}

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private failures = 0;
  private openedAt: number | null = null;
  private lastError: string | null = null;
  private trialInFlight = false;

  constructor(
    private readonly clock: Clock,
    private readonly failureThreshold = 5,
    private readonly cooldownMs = 30 * 60_000,
  ) {}

  /** Whether a call may go ahead now; in half-open state only one trial at a time. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (this.clock.now().getTime() - (this.openedAt ?? 0) < this.cooldownMs) return false;
      this.state = 'half_open';
    }
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.state = 'closed';
    this.failures = 0;
    this.openedAt = null;
    this.trialInFlight = false;
  }

  failure(error: string): void {
    this.lastError = error;
    this.trialInFlight = false;
    this.failures++;
    if (this.state === 'half_open' || this.failures >= this.failureThreshold) {
      this.state = 'open';
      this.openedAt = this.clock.now().getTime();
    }
  }

  view(): BreakerView {
    const retryAt = this.state === 'open' && this.openedAt !== null ? new Date(this.openedAt + this.cooldownMs).toISOString() : null;
    return {
      state: this.state,
      consecutive_failures: this.failures,
      opened_at: this.openedAt === null ? null : new Date(this.openedAt).toISOString(),
      retry_at: retryAt,
      last_error: this.lastError,
    };
  }
}
