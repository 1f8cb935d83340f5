/**
 * Leases per game date and store-level locks, each a read-then-write in one Firestore transaction (the callback
 * only reads and stages writes, so a retry after contention is harmless). Expiry uses the injected clock, like the local
 * store, so tests can move time.
 */
import type { Transaction } from '@google-cloud/firestore';
import { isEnded, type LeaseClaim, type LeaseResult } from '../../ports/batch-store.js';
import { leaseDocSchema, lockDocSchema, parseDoc, readBatchDoc, type LeaseDoc, type LockDoc } from './batch-docs.js';
import { inTransaction, type StoreContext } from './store-context.js';

/** The lease's holder if it is live: unexpired and its batch not ended (a missing batch counts as live, like the local store). */
async function liveHolder(ctx: StoreContext, tx: Transaction, gameDate: string, now: number): Promise<string | null> {
  const ref = ctx.paths.lease(gameDate);
  const snap = await tx.get(ref);
  if (!snap.exists) return null;
  const lease: LeaseDoc = parseDoc(leaseDocSchema, snap.data(), ref.path);
  if (lease.expires_at_ms <= now) return null;
  const batchRef = ctx.paths.batch(lease.batch_id);
  const batch = await tx.get(batchRef);
  if (batch.exists && isEnded(readBatchDoc(batch.data(), batchRef.path).state)) return null;
  return lease.batch_id;
}

export function claimLease(ctx: StoreContext, claim: LeaseClaim): Promise<LeaseResult> {
  return inTransaction(ctx, ctx.paths.lease(claim.gameDate), async (tx): Promise<LeaseResult> => {
    const now = ctx.clock.now();
    const holder = await liveHolder(ctx, tx, claim.gameDate, now.getTime());
    if (holder !== null && !claim.force) return { ok: false, holderBatchId: holder };
    const lease: LeaseDoc = { batch_id: claim.batchId, expires_at_ms: now.getTime() + claim.ttlMs, claimed_at: now.toISOString() };
    tx.set(ctx.paths.lease(claim.gameDate), lease);
    return { ok: true, tookOverBatchId: holder };
  });
}

export function releaseLease(ctx: StoreContext, gameDate: string, batchId: string): Promise<void> {
  const ref = ctx.paths.lease(gameDate);
  return inTransaction(ctx, ref, async (tx) => {
    const snap = await tx.get(ref);
    if (snap.exists && parseDoc(leaseDocSchema, snap.data(), ref.path).batch_id === batchId) tx.delete(ref);
  });
}

export function leaseHolder(ctx: StoreContext, gameDate: string): Promise<string | null> {
  return ctx.db.runTransaction((tx) => liveHolder(ctx, tx, gameDate, ctx.clock.now().getTime()), { readOnly: true });
}

export function acquireLock(ctx: StoreContext, key: string, holder: string, ttlMs: number): Promise<boolean> {
  const ref = ctx.paths.lock(key);
  return inTransaction(ctx, ref, async (tx) => {
    const now = ctx.clock.now();
    const snap = await tx.get(ref);
    if (snap.exists) {
      const current = parseDoc(lockDocSchema, snap.data(), ref.path);
      if (current.holder !== holder && current.expires_at_ms > now.getTime()) return false;
    }
    const lock: LockDoc = { holder, expires_at_ms: now.getTime() + ttlMs, acquired_at: now.toISOString() };
    tx.set(ref, lock);
    return true;
  });
}

export function releaseLock(ctx: StoreContext, key: string, holder: string): Promise<void> {
  const ref = ctx.paths.lock(key);
  return inTransaction(ctx, ref, async (tx) => {
    const snap = await tx.get(ref);
    if (snap.exists && parseDoc(lockDocSchema, snap.data(), ref.path).holder === holder) tx.delete(ref);
  });
}

export async function lockHolder(ctx: StoreContext, key: string): Promise<string | null> {
  const ref = ctx.paths.lock(key);
  const snap = await ref.get();
  if (!snap.exists) return null;
  const lock = parseDoc(lockDocSchema, snap.data(), ref.path);
  return lock.expires_at_ms > ctx.clock.now().getTime() ? lock.holder : null;
}
