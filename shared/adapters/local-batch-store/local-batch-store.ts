/**
 * In-process BatchStore for the embedded default and tests. Each method reads and writes its state in one synchronous step
 * (no await between read and write), which gives the same atomicity a Firestore transaction gives: exactly one caller wins
 * each transition. State lives in memory; records are copied in and out so callers can't mutate it.
 */
import type { Clock } from '../../ports/clock.js';
import {
  ENDED_STATES,
  type BatchRecord,
  type BatchState,
  type BatchStore,
  type CompletionResult,
  type LeaseClaim,
  type LeaseResult,
  type PlayerOutcome,
} from '../../ports/batch-store.js';

interface Lease {
  batchId: string;
  expiresAt: number;
}

interface BatchEntry {
  record: BatchRecord;
  published: Set<string> | null;
  completions: Map<string, number>;
  outcomes: PlayerOutcome[];
}

const clone = <T>(value: T): T => structuredClone(value);

export class LocalBatchStore implements BatchStore {
  private readonly leases = new Map<string, Lease>();
  private readonly batches = new Map<string, BatchEntry>();
  private readonly dateLocks = new Map<string, { holder: string; expiresAt: number }>();

  constructor(private readonly clock: Clock) {}

  async claimLease(claim: LeaseClaim): Promise<LeaseResult> {
    const now = this.clock.now().getTime();
    const current = this.leases.get(claim.gameDate);
    const live = current !== undefined && current.expiresAt > now && !this.isEnded(current.batchId);
    if (live && !claim.force) return { ok: false, holderBatchId: current.batchId };
    this.leases.set(claim.gameDate, { batchId: claim.batchId, expiresAt: now + claim.ttlMs });
    return { ok: true, tookOverBatchId: live ? current.batchId : null };
  }

  async releaseLease(gameDate: string, batchId: string): Promise<void> {
    if (this.leases.get(gameDate)?.batchId === batchId) this.leases.delete(gameDate);
  }

  async leaseHolder(gameDate: string): Promise<string | null> {
    const lease = this.leases.get(gameDate);
    if (!lease || lease.expiresAt <= this.clock.now().getTime() || this.isEnded(lease.batchId)) return null;
    return lease.batchId;
  }

  async createBatch(batch: BatchRecord): Promise<void> {
    if (this.batches.has(batch.batch_id)) throw new Error(`batch ${batch.batch_id} already exists`);
    this.batches.set(batch.batch_id, { record: clone(batch), published: null, completions: new Map(), outcomes: [] });
  }

  async getBatch(batchId: string): Promise<BatchRecord | null> {
    const entry = this.batches.get(batchId);
    return entry ? clone(entry.record) : null;
  }

  async listActive(): Promise<BatchRecord[]> {
    return [...this.batches.values()]
      .map((e) => e.record)
      .filter((r) => !ENDED_STATES.includes(r.state))
      .sort((a, b) => b.started_at.localeCompare(a.started_at))
      .map(clone);
  }

  async latestForDate(gameDate: string): Promise<BatchRecord | null> {
    let latest: BatchRecord | null = null;
    for (const { record } of this.batches.values()) {
      if (record.game_date === gameDate && (latest === null || record.started_at > latest.started_at)) latest = record;
    }
    return latest ? clone(latest) : null;
  }

  async putOutcomes(batchId: string, outcomes: PlayerOutcome[]): Promise<void> {
    const entry = this.entry(batchId);
    entry.outcomes = clone(outcomes);
    entry.record.updated_at = this.nowIso();
  }

  async getOutcomes(batchId: string): Promise<PlayerOutcome[]> {
    return clone(this.entry(batchId).outcomes);
  }

  async finishDispatch(
    batchId: string,
    published: readonly string[],
    summary: Record<string, unknown>,
  ): Promise<{ batch: BatchRecord; finished: boolean }> {
    const entry = this.entry(batchId);
    if (entry.record.state !== 'dispatching') throw new Error(`batch ${batchId} is ${entry.record.state}, not dispatching`);
    entry.published = new Set(published);
    const r = entry.record;
    r.expected = entry.published.size;
    this.recount(entry);
    r.summary = clone(summary);
    r.dispatched_at = this.nowIso();
    r.updated_at = r.dispatched_at;
    const finished = r.completed >= r.expected;
    r.state = finished ? 'consolidating' : 'running';
    return { batch: clone(r), finished };
  }

  async recordCompletion(batchId: string, playerLookup: string, predictions: number): Promise<CompletionResult> {
    const entry = this.batches.get(batchId);
    if (!entry) return { kind: 'unknown_batch' };
    const r = entry.record;
    if (ENDED_STATES.includes(r.state) || r.state === 'consolidating') return { kind: 'batch_ended', batch: clone(r) };
    if (entry.completions.has(playerLookup)) return { kind: 'duplicate', batch: clone(r) };
    if (entry.published !== null && !entry.published.has(playerLookup)) return { kind: 'not_in_batch', batch: clone(r) };
    entry.completions.set(playerLookup, predictions);
    r.updated_at = this.nowIso();
    this.recount(entry);
    const finished = r.state === 'running' && r.completed >= r.expected;
    if (finished) r.state = 'consolidating';
    return { kind: 'recorded', batch: clone(r), finished };
  }

  async transition(
    batchId: string,
    from: BatchState | readonly BatchState[],
    to: BatchState,
    patch: Partial<Pick<BatchRecord, 'consolidation' | 'error' | 'summary'>> = {},
  ): Promise<BatchRecord | null> {
    const entry = this.batches.get(batchId);
    if (!entry) return null;
    const allowed: readonly BatchState[] = typeof from === 'string' ? [from] : from;
    if (!allowed.includes(entry.record.state)) return null;
    const r = entry.record;
    r.state = to;
    if (patch.consolidation !== undefined) r.consolidation = clone(patch.consolidation);
    if (patch.error !== undefined) r.error = patch.error;
    if (patch.summary !== undefined) r.summary = clone(patch.summary);
    r.updated_at = this.nowIso();
    if (ENDED_STATES.includes(to)) r.ended_at = r.updated_at;
    return clone(r);
  }

  async acquireDateLock(key: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now().getTime();
    const current = this.dateLocks.get(key);
    if (current !== undefined && current.holder !== holder && current.expiresAt > now) return false;
    this.dateLocks.set(key, { holder, expiresAt: now + ttlMs });
    return true;
  }

  async releaseDateLock(key: string, holder: string): Promise<void> {
    if (this.dateLocks.get(key)?.holder === holder) this.dateLocks.delete(key);
  }

  /** Counts only completions of published players (before dispatch ends, every completion counts provisionally). */
  private recount(entry: BatchEntry): void {
    let completed = 0;
    let predictions = 0;
    for (const [player, count] of entry.completions) {
      if (entry.published === null || entry.published.has(player)) {
        completed++;
        predictions += count;
      }
    }
    entry.record.completed = completed;
    entry.record.total_predictions = predictions;
  }

  private isEnded(batchId: string): boolean {
    const entry = this.batches.get(batchId);
    return entry !== undefined && ENDED_STATES.includes(entry.record.state);
  }

  private entry(batchId: string): BatchEntry {
    const entry = this.batches.get(batchId);
    if (!entry) throw new Error(`unknown batch ${batchId}`);
    return entry;
  }

  private nowIso(): string {
    return this.clock.now().toISOString();
  }
}
