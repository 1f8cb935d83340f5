/**
 * BatchStore port: leases per game date, batch records, per-player outcomes and completions, locks. The record and every
 * change to it are the batch state machine's (shared/batch): an adapter reads, applies the machine's pure function and
 * writes, inside one transaction of its own (Firestore; DuckDB on the embedded default), so exactly one caller wins each
 * transition however many race.
 */
import type { BatchRecord, DispatchSummary, PlayerCompletion, PlayerOutcome } from '../batch/batch-record.js';

export {
  ENDED_STATES,
  isEnded,
  type BatchRecord,
  type BatchState,
  type PlayerCompletion,
  type PlayerOutcome,
  type PlayerOutcomeKind,
} from '../batch/batch-record.js';

export interface LeaseClaim {
  gameDate: string;
  batchId: string;
  ttlMs: number;
  force: boolean;
}

export type LeaseResult = { ok: true; tookOverBatchId: string | null } | { ok: false; holderBatchId: string };

export type CompletionResult =
  | { kind: 'unknown_batch' }
  | { kind: 'batch_ended'; batch: BatchRecord }
  | {
      kind: 'recorded';
      batch: BatchRecord;
      /** Players whose completion was recorded by this call. */
      recorded: string[];
      /** Players that had already reported (a redelivery): nothing changed for them. */
      duplicates: string[];
      /** Players this batch did not publish: not counted. */
      notInBatch: string[];
      /** True for exactly one caller: the one whose completions made the batch finished (it moved to `consolidating`). */
      finished: boolean;
    };

/**
 * A one-off fact the coordinator must act on once, kept in the batch store: an alert sent (its id is the event's), a batch
 * that stalled (counted over the last hour), a regeneration trigger taken. `recordEvent` is the compare-and-set: exactly one
 * caller records a given id. Events expire after `expiresAt` (Firestore TTL policy; the embedded store drops them on write).
 */
export interface StoreEvent {
  /** Unique per event (e.g. `alert.batch_end.<batch_id>`); letters, digits and `_ . : -` only. */
  id: string;
  kind: string;
  /** When it happened (ISO-8601). */
  at: string;
  /** When the store may forget it (ISO-8601). */
  expiresAt: string;
  data: Record<string, unknown>;
}

/** A change to a record: the new record, or null when it does not apply to the record as it stands. Must be pure. */
export type BatchChange = (record: BatchRecord) => BatchRecord | null;

export interface BatchStore {
  /** Claims the game date for a batch. Fails if another live (unexpired, not ended) lease holds it, unless `force`. */
  claimLease(claim: LeaseClaim): Promise<LeaseResult>;
  /** Releases the date's lease if `batchId` still holds it. */
  releaseLease(gameDate: string, batchId: string): Promise<void>;
  /** The batch holding the date's live lease, if any. */
  leaseHolder(gameDate: string): Promise<string | null>;

  createBatch(batch: BatchRecord): Promise<void>;
  getBatch(batchId: string): Promise<BatchRecord | null>;
  /** Batches not yet closed (still running, or ended with their phase-5 message or run-history row pending), newest first. */
  listOpen(): Promise<BatchRecord[]>;
  /** The most recently started batch for a game date, whatever its state; null when the date never had one. */
  latestForDate(gameDate: string): Promise<BatchRecord | null>;

  putOutcomes(batchId: string, outcomes: PlayerOutcome[]): Promise<void>;
  getOutcomes(batchId: string): Promise<PlayerOutcome[]>;
  /** Every player's completion recorded so far (published players' only, once dispatch ended). */
  getCompletions(batchId: string): Promise<PlayerCompletion[]>;

  /**
   * Ends dispatch: records which players were published and applies the machine's `finishDispatch` (completions that came in
   * during dispatch count now). Throws if the batch is not dispatching (it was superseded or reset meanwhile).
   */
  finishDispatch(
    batchId: string,
    published: readonly string[],
    summary: DispatchSummary,
  ): Promise<{ batch: BatchRecord; finished: boolean }>;

  /** Records each player's completion once (a redelivery changes nothing) and applies the machine's `applyCompletions`. */
  recordCompletions(batchId: string, completions: readonly PlayerCompletion[]): Promise<CompletionResult>;

  /** Applies `change` to the record in one transaction; returns the new record, or null (unknown batch, or change refused). */
  update(batchId: string, change: BatchChange): Promise<BatchRecord | null>;

  /**
   * Store-level mutual exclusion across processes (e.g. one merge into a table at a time). Takes the lock when it is free,
   * expired, or already held by `holder` (which renews it for `ttlMs`); false while another live holder has it.
   */
  acquireLock(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Releases the lock if `holder` still holds it; a no-op otherwise. */
  releaseLock(key: string, holder: string): Promise<void>;
  /** The lock's live holder, if any. */
  lockHolder(key: string): Promise<string | null>;

  /** Records the event if no event with its id exists: true for the one caller that recorded it, false for every other. */
  recordEvent(event: StoreEvent): Promise<boolean>;
  /** Events of `kind` that happened at or after `since` (ISO-8601), oldest first. */
  listEvents(kind: string, since: string): Promise<StoreEvent[]>;
  /** Forgets the event (a no-op when there is none): an alert that could not be sent may be sent by a later attempt. */
  deleteEvent(id: string): Promise<void>;
}

/** What an event id may hold (it is a Firestore document id and a DuckDB key). */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,400}$/;

/** The one error BatchStore adapters throw; `retryable` says whether the store may succeed on another attempt. */
export class BatchStoreError extends Error {
  readonly retryable: boolean;
  constructor(operation: string, message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(`batch store ${operation}: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BatchStoreError';
    this.retryable = opts.retryable;
  }
}
