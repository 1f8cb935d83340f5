/**
 * BatchStore over Firestore (native mode). Every check-then-act step is one `runTransaction` whose callback reads first,
 * then stages writes, and has no side effect (Firestore re-runs it on contention); the record changes are the state
 * machine's pure functions (shared/batch). The document layout is in paths.ts. Within one process, transactions on the same
 * document are queued (keyed-queue.ts); across processes the transactions alone keep every transition exactly-once.
 *
 * Composite indexes the queries need in production (the emulator needs none), collection scope `batches`:
 *   - listOpen:       closed ASC, started_at DESC     (where closed == false order by started_at desc)
 *   - latestForDate:  game_date ASC, started_at DESC  (where game_date == d order by started_at desc limit 1)
 * Single-field index exemptions worth adding: batches.record_json, outcomes.outcomes_json, players.completion_json,
 * published.players (large values nobody queries).
 * `events` documents carry `expires_at` (a timestamp): a TTL policy on that field (collection group `events`) deletes them.
 * listEvents filters on `at` alone (a single-field index) and on the kind in memory, so it needs no composite index.
 */
import type { Firestore } from '@google-cloud/firestore';
import type { Clock } from '../../ports/clock.js';
import {
  BatchStoreError,
  type BatchChange,
  type BatchStore,
  type CompletionResult,
  type LeaseClaim,
  type LeaseResult,
  type StoreEvent,
  EVENT_ID_PATTERN,
} from '../../ports/batch-store.js';
import type { BatchRecord, DispatchSummary, PlayerCompletion, PlayerOutcome } from '../../batch/batch-record.js';
import { z } from 'zod';
import {
  completionOf,
  newBatchDoc,
  outcomeChunkSchema,
  parseDoc,
  parseOutcomes,
  readBatchDoc,
  recordFields,
  recordOf,
} from './batch-docs.js';
import { chunkByJsonBytes } from './chunks.js';
import { BatchStorePaths } from './paths.js';
import { KeyedQueue } from './keyed-queue.js';
import * as leases from './firestore-leases.js';
import { inTransaction, type StoreContext } from './store-context.js';
import * as completions from './firestore-completions.js';
import { errorMessage } from '../../errors/error-message.js';

export interface FirestoreBatchStoreOptions {
  db: Firestore;
  /** Root document path, e.g. `prediction-coordinator/prod`; every collection of the store lives under it. */
  rootPath: string;
  clock: Clock;
  /** Transaction attempts under contention (Firestore's default is 5; completion events race on one batch doc). */
  maxTransactionAttempts?: number;
  /** JSON bytes per outcome or published-player chunk document (a document holds at most 1 MiB). */
  chunkBudgetBytes?: number;
}

const DEFAULT_MAX_ATTEMPTS = 25;
const DEFAULT_CHUNK_BUDGET = 512 * 1024;

/** gRPC codes Firestore returns for failures another attempt may not hit: ABORTED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE, INTERNAL, UNKNOWN. */
const RETRYABLE_CODES = new Set([10, 4, 8, 14, 13, 2]);
const ALREADY_EXISTS = 6;

const codeOf = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number'
    ? (err as { code: number }).code
    : undefined;

/** The port's error, with `retryable` from Firestore's status code (https://cloud.google.com/firestore/docs/understand-error-codes). */
function storeError(operation: string, err: unknown): BatchStoreError {
  if (err instanceof BatchStoreError) return err;
  const code = codeOf(err);
  return new BatchStoreError(operation, errorMessage(err), { retryable: code !== undefined && RETRYABLE_CODES.has(code), cause: err });
}

export class FirestoreBatchStore implements BatchStore {
  private readonly ctx: StoreContext;
  private readonly paths: BatchStorePaths;
  private readonly chunkBudget: number;

  constructor(opts: FirestoreBatchStoreOptions) {
    this.paths = new BatchStorePaths(opts.db, opts.rootPath);
    this.ctx = {
      db: opts.db,
      paths: this.paths,
      clock: opts.clock,
      maxAttempts: opts.maxTransactionAttempts ?? DEFAULT_MAX_ATTEMPTS,
      queue: new KeyedQueue(),
    };
    this.chunkBudget = opts.chunkBudgetBytes ?? DEFAULT_CHUNK_BUDGET;
    if (!Number.isInteger(this.chunkBudget) || this.chunkBudget < 1024 || this.chunkBudget > 900 * 1024) {
      throw new Error(`firestore batch store: chunkBudgetBytes must be an integer in [1024, ${900 * 1024}], got ${this.chunkBudget}`);
    }
  }

  claimLease(claim: LeaseClaim): Promise<LeaseResult> {
    return this.op('claimLease', () => leases.claimLease(this.ctx, claim));
  }

  releaseLease(gameDate: string, batchId: string): Promise<void> {
    return this.op('releaseLease', () => leases.releaseLease(this.ctx, gameDate, batchId));
  }

  leaseHolder(gameDate: string): Promise<string | null> {
    return this.op('leaseHolder', () => leases.leaseHolder(this.ctx, gameDate));
  }

  acquireLock(key: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.op('acquireLock', () => leases.acquireLock(this.ctx, key, holder, ttlMs));
  }

  releaseLock(key: string, holder: string): Promise<void> {
    return this.op('releaseLock', () => leases.releaseLock(this.ctx, key, holder));
  }

  lockHolder(key: string): Promise<string | null> {
    return this.op('lockHolder', () => leases.lockHolder(this.ctx, key));
  }

  createBatch(batch: BatchRecord): Promise<void> {
    return this.op('createBatch', async () => {
      try {
        await this.paths.batch(batch.batch_id).create(newBatchDoc(batch));
      } catch (err) {
        if (codeOf(err) === ALREADY_EXISTS)
          throw new BatchStoreError('createBatch', `batch ${batch.batch_id} already exists`, { retryable: false });
        throw err;
      }
    });
  }

  getBatch(batchId: string): Promise<BatchRecord | null> {
    return this.op('getBatch', async () => {
      const ref = this.paths.batch(batchId);
      const snap = await ref.get();
      return snap.exists ? recordOf(readBatchDoc(snap.data(), ref.path), ref.path) : null;
    });
  }

  listOpen(): Promise<BatchRecord[]> {
    return this.op('listOpen', async () => {
      const snap = await this.paths.batches.where('closed', '==', false).orderBy('started_at', 'desc').get();
      return snap.docs.map((d) => recordOf(readBatchDoc(d.data(), d.ref.path), d.ref.path));
    });
  }

  latestForDate(gameDate: string): Promise<BatchRecord | null> {
    return this.op('latestForDate', async () => {
      const snap = await this.paths.batches.where('game_date', '==', gameDate).orderBy('started_at', 'desc').limit(1).get();
      const doc = snap.docs[0];
      return doc ? recordOf(readBatchDoc(doc.data(), doc.ref.path), doc.ref.path) : null;
    });
  }

  /** Replaces the batch's outcomes: writes the new chunks, deletes chunks left over from a longer earlier list. */
  putOutcomes(batchId: string, outcomes: PlayerOutcome[]): Promise<void> {
    const ref = this.paths.batch(batchId);
    const chunks = chunkByJsonBytes(outcomes, this.chunkBudget, 'outcome');
    return this.op('putOutcomes', () =>
      inTransaction(this.ctx, ref, async (tx) => {
        const snap = await tx.get(ref);
        if (!snap.exists) throw new BatchStoreError('putOutcomes', `unknown batch ${batchId}`, { retryable: false });
        const previous = readBatchDoc(snap.data(), ref.path).outcome_chunks;
        chunks.forEach((chunk, i) => tx.set(this.paths.outcomes(batchId, i), { outcomes_json: JSON.stringify(chunk) }));
        for (let i = chunks.length; i < previous; i++) tx.delete(this.paths.outcomes(batchId, i));
        tx.update(ref, { outcome_chunks: chunks.length });
      }),
    );
  }

  getOutcomes(batchId: string): Promise<PlayerOutcome[]> {
    const ref = this.paths.batch(batchId);
    return this.op('getOutcomes', () =>
      this.ctx.db.runTransaction(
        async (tx) => {
          const snap = await tx.get(ref);
          if (!snap.exists) throw new BatchStoreError('getOutcomes', `unknown batch ${batchId}`, { retryable: false });
          const count = readBatchDoc(snap.data(), ref.path).outcome_chunks;
          if (count === 0) return [];
          const chunks = await tx.getAll(...Array.from({ length: count }, (_, i) => this.paths.outcomes(batchId, i)));
          return chunks.flatMap((c) => {
            if (!c.exists) throw new Error(`outcome chunk ${c.ref.path} is missing`);
            return parseOutcomes(parseDoc(outcomeChunkSchema, c.data(), c.ref.path).outcomes_json, c.ref.path);
          });
        },
        { readOnly: true },
      ),
    );
  }

  getCompletions(batchId: string): Promise<PlayerCompletion[]> {
    return this.op('getCompletions', async () => {
      const ref = this.paths.batch(batchId);
      const snap = await ref.get();
      if (!snap.exists) throw new BatchStoreError('getCompletions', `unknown batch ${batchId}`, { retryable: false });
      const doc = readBatchDoc(snap.data(), ref.path);
      const players = await this.paths.players(batchId).get();
      const all = players.docs.map((d) => completionOf(d.data(), d.ref.path));
      if (doc.published_chunks === null) return all;
      const chunks =
        doc.published_chunks > 0
          ? await this.ctx.db.getAll(...Array.from({ length: doc.published_chunks }, (_, i) => this.paths.published(batchId, i)))
          : [];
      const published = new Set(chunks.flatMap((c) => (c.exists ? ((c.data()?.players as string[] | undefined) ?? []) : [])));
      return all.filter((c) => published.has(c.player_lookup)).sort((a, b) => a.player_lookup.localeCompare(b.player_lookup));
    });
  }

  finishDispatch(
    batchId: string,
    published: readonly string[],
    summary: DispatchSummary,
  ): Promise<{ batch: BatchRecord; finished: boolean }> {
    return this.op('finishDispatch', () => completions.finishDispatch(this.ctx, this.chunkBudget, batchId, published, summary));
  }

  recordCompletions(batchId: string, list: readonly PlayerCompletion[]): Promise<CompletionResult> {
    return this.op('recordCompletions', () => completions.recordCompletions(this.ctx, batchId, list));
  }

  update(batchId: string, change: BatchChange): Promise<BatchRecord | null> {
    const ref = this.paths.batch(batchId);
    return this.op('update', () =>
      inTransaction(this.ctx, ref, async (tx) => {
        const snap = await tx.get(ref);
        if (!snap.exists) return null;
        const next = change(recordOf(readBatchDoc(snap.data(), ref.path), ref.path));
        if (!next) return null;
        tx.update(ref, recordFields(next));
        return next;
      }),
    );
  }

  recordEvent(event: StoreEvent): Promise<boolean> {
    return this.op('recordEvent', async () => {
      if (!EVENT_ID_PATTERN.test(event.id))
        throw new BatchStoreError('recordEvent', `invalid event id '${event.id}'`, { retryable: false });
      try {
        await this.paths
          .event(event.id)
          .create({ kind: event.kind, at: event.at, expires_at: new Date(event.expiresAt), data_json: JSON.stringify(event.data) });
        return true;
      } catch (err) {
        if (codeOf(err) !== ALREADY_EXISTS) throw err;
        // An expired event the TTL policy has not deleted yet (deletion can lag by a day) is forgotten here, in a transaction.
        const ref = this.paths.event(event.id);
        return inTransaction(this.ctx, ref, async (tx) => {
          const snap = await tx.get(ref);
          if (snap.exists && eventOf(snap.id, snap.data()).expiresAt > this.ctx.clock.now().toISOString()) return false;
          tx.set(ref, { kind: event.kind, at: event.at, expires_at: new Date(event.expiresAt), data_json: JSON.stringify(event.data) });
          return true;
        });
      }
    });
  }

  listEvents(kind: string, since: string): Promise<StoreEvent[]> {
    return this.op('listEvents', async () => {
      const now = this.ctx.clock.now().toISOString();
      const snap = await this.paths.events.where('at', '>=', since).orderBy('at').get();
      return snap.docs
        .map((d) => eventOf(d.id, d.data()))
        .filter((e) => e.kind === kind && e.expiresAt > now)
        .sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
    });
  }

  deleteEvent(id: string): Promise<void> {
    return this.op('deleteEvent', async () => {
      await this.paths.event(id).delete();
    });
  }

  private async op<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw storeError(operation, err);
    }
  }
}

const eventDocSchema = z.object({
  kind: z.string(),
  at: z.string(),
  expires_at: z.custom<{ toDate(): Date }>((v) => typeof (v as { toDate?: unknown })?.toDate === 'function', 'a timestamp'),
  data_json: z.string(),
});

function eventOf(id: string, data: unknown): StoreEvent {
  const doc = parseDoc(eventDocSchema, data, `events/${id}`);
  return {
    id,
    kind: doc.kind,
    at: doc.at,
    expiresAt: doc.expires_at.toDate().toISOString(),
    data: JSON.parse(doc.data_json) as Record<string, unknown>,
  };
}
