/**
 * Store-level locks for the batch end. Merges into player_prop_predictions are serialised table-wide (per dataset prefix):
 * BigQuery cancels one of two transactions that mutate the same table at once
 * (https://cloud.google.com/bigquery/docs/transactions#transaction_concurrency), so two dates consolidating together would
 * otherwise fail one another. A holder is `<batch_id>:<nonce>` — one per attempt, so a redelivered step waits for the attempt
 * that holds the lock instead of entering beside it — and a lock whose batch has ended is taken over at once (a crashed or
 * reset consolidation never blocks the table until its TTL).
 */
import { randomBytes } from 'node:crypto';
import type { CoordinatorDeps } from '../deps.js';
import { isEnded } from '../../../shared/batch/batch-record.js';
import { pollUntil } from '../../../shared/retry/backoff.js';

export const mergeLockKey = (datasetPrefix: string): string => `merge.${datasetPrefix || 'default'}.player_prop_predictions`;
export const closeLockKey = (batchId: string): string => `close.${batchId}`;

export const newHolder = (batchId: string): string => `${batchId}:${randomBytes(4).toString('hex')}`;
const batchOf = (holder: string): string => holder.slice(0, holder.lastIndexOf(':'));

/** Takes the lock, waiting up to `waitMs` with backoff; a holder whose batch has ended is released first. */
export async function acquireLock(
  deps: CoordinatorDeps,
  key: string,
  holder: string,
  opts: { ttlMs: number; waitMs: number },
): Promise<{ ok: boolean; heldBy: string | null }> {
  let heldBy: string | null = null;
  const { value } = await pollUntil(
    async () => {
      if (await deps.batches.acquireLock(key, holder, opts.ttlMs)) return true;
      heldBy = await deps.batches.lockHolder(key);
      if (heldBy !== null) {
        const owner = await deps.batches.getBatch(batchOf(heldBy));
        if (owner === null || isEnded(owner.state)) {
          deps.logger.warn({ lock: key, holder: heldBy }, 'lock held by a batch that has ended: released');
          await deps.batches.releaseLock(key, heldBy);
          if (await deps.batches.acquireLock(key, holder, opts.ttlMs)) return true;
        }
      }
      return undefined;
    },
    { budgetMs: opts.waitMs, initialDelayMs: 50, maxDelayMs: 2_000, ...(deps.wait ? { wait: deps.wait } : {}) },
  );
  return { ok: value === true, heldBy };
}

/** Releases every lock `batchId` may still hold (the merge lock of its prefix): for a batch that ends outside consolidation. */
export async function releaseLocksOf(deps: CoordinatorDeps, batchId: string, datasetPrefix: string): Promise<void> {
  const key = mergeLockKey(datasetPrefix);
  const holder = await deps.batches.lockHolder(key);
  if (holder !== null && batchOf(holder) === batchId) await deps.batches.releaseLock(key, holder);
}

/**
 * Boot recovery on the embedded default only (the process is the batch store's only host, so every lock in it was taken by
 * a process that died): releases the merge lock and the closing locks `batchId` holds, whoever of its attempts took them.
 * Never call it where another live process may hold them (Cloud Run instances share Firestore).
 */
export async function releaseDeadLocks(deps: CoordinatorDeps, batchId: string, datasetPrefix: string): Promise<void> {
  for (const key of [mergeLockKey(datasetPrefix), closeLockKey(batchId), closeLockKey(`${batchId}.end`)]) {
    const holder = await deps.batches.lockHolder(key);
    if (holder !== null && batchOf(holder) === batchId) {
      await deps.batches.releaseLock(key, holder);
      deps.logger.warn({ lock: key, holder }, 'lock left by a process that died: released');
    }
  }
}
