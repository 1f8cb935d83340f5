/**
 * BatchStore port: leases per game date, batch records, per-player outcomes and completions, state transitions.
 * Every method is atomic: the Firestore adapter uses transactions, the local adapter does each change in one synchronous step.
 */

export type BatchState = 'dispatching' | 'running' | 'consolidating' | 'complete' | 'partial' | 'failed';

export const ENDED_STATES: readonly BatchState[] = ['complete', 'partial', 'failed'];

export type PlayerOutcomeKind = 'published' | 'skipped' | 'blocked' | 'publish_failed';

export interface PlayerOutcome {
  player_lookup: string;
  game_id: string | null;
  outcome: PlayerOutcomeKind;
  /** Why: `quality_sufficient`, `already_has_prediction`, `hard_floor_red_alert`, `publish_failed: …`, … */
  reason: string;
  line_source: string | null;
  line_value: number | null;
  sportsbook: string | null;
}

export interface BatchRecord {
  batch_id: string;
  game_date: string;
  correlation_id: string;
  dataset_prefix: string;
  prediction_run_mode: string;
  state: BatchState;
  /** Players published; set when dispatch ends (before that, completions are only collected). */
  expected: number;
  completed: number;
  total_predictions: number;
  started_at: string;
  dispatched_at: string | null;
  ended_at: string | null;
  updated_at: string;
  /** The dispatch summary, consolidation result, checks: JSON objects owned by the coordinator. */
  summary: Record<string, unknown>;
  consolidation: Record<string, unknown> | null;
  error: string | null;
}

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
  | { kind: 'duplicate'; batch: BatchRecord }
  | { kind: 'not_in_batch'; batch: BatchRecord }
  /** `finished` is true for exactly one caller: the one whose change made the batch finished (it moved to `consolidating`). */
  | { kind: 'recorded'; batch: BatchRecord; finished: boolean };

export interface BatchStore {
  /** Claims the game date for a batch. Fails if another live (unexpired, not ended) lease holds it, unless `force`. */
  claimLease(claim: LeaseClaim): Promise<LeaseResult>;
  /** Releases the date's lease if `batchId` still holds it. */
  releaseLease(gameDate: string, batchId: string): Promise<void>;
  /** The batch holding the date's live lease, if any. */
  leaseHolder(gameDate: string): Promise<string | null>;

  createBatch(batch: BatchRecord): Promise<void>;
  getBatch(batchId: string): Promise<BatchRecord | null>;
  /** Batches not yet in an ended state, newest first. */
  listActive(): Promise<BatchRecord[]>;
  /** The most recently started batch for a game date, whatever its state; null when the date never had one. */
  latestForDate(gameDate: string): Promise<BatchRecord | null>;

  putOutcomes(batchId: string, outcomes: PlayerOutcome[]): Promise<void>;
  getOutcomes(batchId: string): Promise<PlayerOutcome[]>;

  /**
   * Ends dispatch: records which players were published, sets `expected`, moves `dispatching → running`, and — when every
   * published player has already reported — straight on to `consolidating` (then `finished` is true).
   */
  finishDispatch(batchId: string, published: readonly string[], summary: Record<string, unknown>): Promise<{ batch: BatchRecord; finished: boolean }>;

  /** Records one player's completion once; a redelivery changes nothing. */
  recordCompletion(batchId: string, playerLookup: string, predictions: number): Promise<CompletionResult>;

  /** Compare-and-set on the state: applies `patch` and returns the new record only if the batch is in `from`. */
  transition(batchId: string, from: BatchState | readonly BatchState[], to: BatchState, patch?: Partial<Pick<BatchRecord, 'consolidation' | 'error' | 'summary'>>): Promise<BatchRecord | null>;

  /**
   * Store-level mutual exclusion across processes (consolidation of one game date at a time). Takes the lock when it is
   * free, expired, or already held by `holder` (which renews it for `ttlMs`); false while another live holder has it.
   */
  acquireDateLock(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Releases the lock if `holder` still holds it; a no-op otherwise (it expired and someone else took it). */
  releaseDateLock(key: string, holder: string): Promise<void>;
}
