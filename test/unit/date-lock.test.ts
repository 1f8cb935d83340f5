import { describe, expect, it } from 'vitest';
import { LocalBatchStore } from '../../shared/adapters/local-batch-store/local-batch-store.js';
import { ManualClock } from '../../shared/ports/clock.js';
import { DATE_LOCK_TIMEOUT, withDateLock, type DateLockStore } from '../../services/coordinator/batch/date-lock.js';

const noRelease = (err: unknown) => {
  throw err;
};

describe('withDateLock', () => {
  it('serialises two holders of one date: the second runs only after the first released', async () => {
    const store = new LocalBatchStore(new ManualClock(new Date()));
    const events: string[] = [];
    let releaseFirst: () => void = () => {};
    const first = withDateLock(store, 'd', 'a', async () => {
      events.push('a start');
      await new Promise<void>((r) => (releaseFirst = r));
      events.push('a end');
    }, { ttlMs: 60_000, waitMs: 60_000, onReleaseError: noRelease });
    await new Promise((r) => setImmediate(r));
    const second = withDateLock(store, 'd', 'b', async () => void events.push('b ran'), { ttlMs: 60_000, waitMs: 60_000, onReleaseError: noRelease });
    await new Promise((r) => setTimeout(r, 5));
    expect(events).toEqual(['a start']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(events).toEqual(['a start', 'a end', 'b ran']);
    expect(await store.acquireDateLock('d', 'c', 1)).toBe(true);
  });

  it('releases the lock when the work fails, and passes the failure on', async () => {
    const store = new LocalBatchStore(new ManualClock(new Date()));
    await expect(withDateLock(store, 'd', 'a', () => Promise.reject(new Error('merge broke')), { ttlMs: 60_000, waitMs: 0, onReleaseError: noRelease })).rejects.toThrow('merge broke');
    expect(await store.acquireDateLock('d', 'b', 60_000)).toBe(true);
  });

  it('gives up after waitMs with a clear error, having polled with growing waits and never run the work', async () => {
    const store = new LocalBatchStore(new ManualClock(new Date()));
    await store.acquireDateLock('d', 'holder', 60_000);
    const sleeps: number[] = [];
    let ran = false;
    const attempt = withDateLock(store, 'd', 'late', async () => void (ran = true), { ttlMs: 60_000, waitMs: 1_000, onReleaseError: noRelease, sleep: async (ms) => void sleeps.push(ms) });
    await expect(attempt).rejects.toMatchObject({ code: DATE_LOCK_TIMEOUT, message: 'date lock d: still held by another holder after waiting 1000 ms (late gave up)' });
    expect(ran).toBe(false);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBe(1_000);
    expect(sleeps.slice(0, 3)).toEqual([25, 50, 100]);
  });

  it('reports a failed release without failing work that succeeded', async () => {
    const base = new LocalBatchStore(new ManualClock(new Date()));
    const store: DateLockStore = { acquireDateLock: (k, h, t) => base.acquireDateLock(k, h, t), releaseDateLock: () => Promise.reject(new Error('store down')) };
    const released: unknown[] = [];
    expect(await withDateLock(store, 'd', 'a', async () => 42, { ttlMs: 60_000, waitMs: 0, onReleaseError: (e) => released.push(e) })).toBe(42);
    expect(released).toEqual([new Error('store down')]);
  });
});
