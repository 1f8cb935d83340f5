/**
 * BatchStore over Firestore (native mode). Every check-then-act step is one `runTransaction` whose callback reads first,
 * then stages writes, and has no side effect (Firestore re-runs it on contention). The document layout is in paths.ts.
 * Within one process, transactions on the same document are queued (keyed-queue.ts); across processes the transactions
 * alone keep every transition exactly-once.
 *
 * Composite indexes the queries need in production (the emulator needs none), collection scope `batches`:
 *   - listActive:     state ASC, started_at DESC   (where state in [...] order by started_at desc)
 *   - latestForDate:  game_date ASC, started_at DESC (where game_date == d order by started_at desc limit 1)
 * Single-field index exemptions worth adding: batches.summary_json, batches.consolidation_json, outcomes.outcomes_json,
 * published.players (large values nobody queries).
 */
import type { Firestore } from '@google-cloud/firestore';
import type { Clock } from '../../ports/clock.js';
import type {
  BatchRecord,
  BatchState,
  BatchStore,
  CompletionResult,
  LeaseClaim,
  LeaseResult,
  PlayerOutcome,
} from '../../ports/batch-store.js';
import { ENDED_STATES } from '../../ports/batch-store.js';
import { outcomeChunkSchema, parseDoc, parseOutcomes, readBatchDoc, toBatchDoc, toBatchRecord, type BatchDoc } from './batch-docs.js';
import { chunkByJsonBytes } from './chunks.js';
import { BatchStorePaths } from './paths.js';
import { KeyedQueue } from './keyed-queue.js';
import * as leases from './firestore-leases.js';
import { inTransaction, type StoreContext } from './store-context.js';
import * as completions from './firestore-completions.js';

export interface FirestoreBatchStoreOptions {
  db: Firestore;
  /** Root document path, e.g. `prediction-coordinator/prod`; every collection of the store lives under it. */
  rootPath: string;
  clock: Clock;
  /** Transaction attempts under contention (Firestore's default is 5; hundreds of completions race on one batch doc). */
  maxTransactionAttempts?: number;
  /** JSON bytes per outcome or published-player chunk document (a document holds at most 1 MiB). */
  chunkBudgetBytes?: number;
}

const ACTIVE_STATES: BatchState[] = ['dispatching', 'running', 'consolidating'];
const DEFAULT_MAX_ATTEMPTS = 25;
const DEFAULT_CHUNK_BUDGET = 512 * 1024;

const isAlreadyExists = (err: unknown): boolean => typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 6;

export class FirestoreBatchStore implements BatchStore {
  private readonly ctx: StoreContext;
  private readonly paths: BatchStorePaths;
  private readonly chunkBudget: number;

  constructor(opts: FirestoreBatchStoreOptions) {
    this.paths = new BatchStorePaths(opts.db, opts.rootPath);
    this.ctx = { db: opts.db, paths: this.paths, clock: opts.clock, maxAttempts: opts.maxTransactionAttempts ?? DEFAULT_MAX_ATTEMPTS, queue: new KeyedQueue() };
    this.chunkBudget = opts.chunkBudgetBytes ?? DEFAULT_CHUNK_BUDGET;
    if (!Number.isInteger(this.chunkBudget) || this.chunkBudget < 1024 || this.chunkBudget > 900 * 1024) {
      throw new Error(`firestore batch store: chunkBudgetBytes must be an integer in [1024, ${900 * 1024}], got ${this.chunkBudget}`);
    }
  }

  claimLease(claim: LeaseClaim): Promise<LeaseResult> {
    return leases.claimLease(this.ctx, claim);
  }

  releaseLease(gameDate: string, batchId: string): Promise<void> {
    return leases.releaseLease(this.ctx, gameDate, batchId);
  }

  leaseHolder(gameDate: string): Promise<string | null> {
    return leases.leaseHolder(this.ctx, gameDate);
  }

  acquireDateLock(key: string, holder: string, ttlMs: number): Promise<boolean> {
    return leases.acquireDateLock(this.ctx, key, holder, ttlMs);
  }

  releaseDateLock(key: string, holder: string): Promise<void> {
    return leases.releaseDateLock(this.ctx, key, holder);
  }

  async createBatch(batch: BatchRecord): Promise<void> {
    try {
      await this.paths.batch(batch.batch_id).create(toBatchDoc(batch));
    } catch (err) {
      if (isAlreadyExists(err)) throw new Error(`batch ${batch.batch_id} already exists`);
      throw err;
    }
  }

  async getBatch(batchId: string): Promise<BatchRecord | null> {
    const ref = this.paths.batch(batchId);
    const snap = await ref.get();
    return snap.exists ? toBatchRecord(readBatchDoc(snap.data(), ref.path), ref.path) : null;
  }

  async listActive(): Promise<BatchRecord[]> {
    const snap = await this.paths.batches.where('state', 'in', ACTIVE_STATES).orderBy('started_at', 'desc').get();
    return snap.docs.map((d) => toBatchRecord(readBatchDoc(d.data(), d.ref.path), d.ref.path));
  }

  async latestForDate(gameDate: string): Promise<BatchRecord | null> {
    const snap = await this.paths.batches.where('game_date', '==', gameDate).orderBy('started_at', 'desc').limit(1).get();
    const doc = snap.docs[0];
    return doc ? toBatchRecord(readBatchDoc(doc.data(), doc.ref.path), doc.ref.path) : null;
  }

  /** Replaces the batch's outcomes: writes the new chunks, deletes chunks left over from a longer earlier list. */
  putOutcomes(batchId: string, outcomes: PlayerOutcome[]): Promise<void> {
    const ref = this.paths.batch(batchId);
    const chunks = chunkByJsonBytes(outcomes, this.chunkBudget, 'outcome');
    return inTransaction(this.ctx, ref, async (tx) => {
      const snap = await tx.get(ref);
      if (!snap.exists) throw new Error(`unknown batch ${batchId}`);
      const previous = readBatchDoc(snap.data(), ref.path).outcome_chunks;
      chunks.forEach((chunk, i) => tx.set(this.paths.outcomes(batchId, i), { outcomes_json: JSON.stringify(chunk) }));
      for (let i = chunks.length; i < previous; i++) tx.delete(this.paths.outcomes(batchId, i));
      tx.update(ref, { outcome_chunks: chunks.length, updated_at: this.ctx.clock.now().toISOString() });
    });
  }

  getOutcomes(batchId: string): Promise<PlayerOutcome[]> {
    const ref = this.paths.batch(batchId);
    return this.ctx.db.runTransaction(
      async (tx) => {
        const snap = await tx.get(ref);
        if (!snap.exists) throw new Error(`unknown batch ${batchId}`);
        const count = readBatchDoc(snap.data(), ref.path).outcome_chunks;
        if (count === 0) return [];
        const chunks = await tx.getAll(...Array.from({ length: count }, (_, i) => this.paths.outcomes(batchId, i)));
        return chunks.flatMap((c) => {
          if (!c.exists) throw new Error(`outcome chunk ${c.ref.path} is missing`);
          return parseOutcomes(parseDoc(outcomeChunkSchema, c.data(), c.ref.path).outcomes_json, c.ref.path);
        });
      },
      { readOnly: true },
    );
  }

  finishDispatch(batchId: string, published: readonly string[], summary: Record<string, unknown>): Promise<{ batch: BatchRecord; finished: boolean }> {
    return completions.finishDispatch(this.ctx, this.chunkBudget, batchId, published, summary);
  }

  recordCompletion(batchId: string, playerLookup: string, predictions: number): Promise<CompletionResult> {
    return completions.recordCompletion(this.ctx, batchId, playerLookup, predictions);
  }

  transition(
    batchId: string,
    from: BatchState | readonly BatchState[],
    to: BatchState,
    patch: Partial<Pick<BatchRecord, 'consolidation' | 'error' | 'summary'>> = {},
  ): Promise<BatchRecord | null> {
    const ref = this.paths.batch(batchId);
    const allowed: readonly BatchState[] = typeof from === 'string' ? [from] : from;
    return inTransaction(this.ctx, ref, async (tx) => {
      const snap = await tx.get(ref);
      if (!snap.exists) return null;
      const doc = readBatchDoc(snap.data(), ref.path);
      if (!allowed.includes(doc.state)) return null;
      const now = this.ctx.clock.now().toISOString();
      const next: BatchDoc = {
        ...doc,
        state: to,
        updated_at: now,
        ...(ENDED_STATES.includes(to) ? { ended_at: now } : {}),
        ...(patch.consolidation !== undefined ? { consolidation_json: patch.consolidation === null ? null : JSON.stringify(patch.consolidation) } : {}),
        ...(patch.error !== undefined ? { error: patch.error } : {}),
        ...(patch.summary !== undefined ? { summary_json: JSON.stringify(patch.summary) } : {}),
      };
      tx.set(ref, next);
      return toBatchRecord(next, ref.path);
    });
  }
}
