/** What the Firestore batch store's modules share: the client, the paths, the clock, and how they run transactions. */
import type { DocumentReference, Firestore, Transaction } from '@google-cloud/firestore';
import type { Clock } from '../../ports/clock.js';
import type { BatchStorePaths } from './paths.js';
import type { KeyedQueue } from './keyed-queue.js';

export interface StoreContext {
  db: Firestore;
  paths: BatchStorePaths;
  clock: Clock;
  maxAttempts: number;
  /** This process's read-write transactions on one document run one after another (see keyed-queue.ts). */
  queue: KeyedQueue;
}

/**
 * A read-write transaction, queued behind this process's other transactions on the same `hotDoc`. The callback must only
 * read (all reads first) and stage writes: Firestore re-runs it when the transaction aborts under contention.
 */
export function inTransaction<T>(ctx: StoreContext, hotDoc: DocumentReference, work: (tx: Transaction) => Promise<T>): Promise<T> {
  return ctx.queue.run(hotDoc.path, () => ctx.db.runTransaction(work, { maxAttempts: ctx.maxAttempts }));
}
