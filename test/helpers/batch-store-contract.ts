/**
 * The BatchStore contract: one behavioural suite every adapter must pass (the local store in unit tests, Firestore against
 * its emulator). Each test gets a fresh store and a hand-moved clock. Concurrency is real: racing calls alternate between
 * two handles on the same data, as two coordinator instances would hold (an adapter may queue its own calls in-process).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/ports/clock.js';
import type { BatchRecord, BatchStore, PlayerOutcome } from '../../shared/ports/batch-store.js';

/** `peer` is a second handle on the same data (another process's view); an in-memory store passes itself. */
export type StoreFactory = (clock: ManualClock) => Promise<{ store: BatchStore; peer: BatchStore }>;

const DATE = '2026-11-22';
const START = new Date('2026-11-22T15:00:00Z');

export const batchRecord = (id: string, overrides: Partial<BatchRecord> = {}): BatchRecord => ({
  batch_id: id,
  game_date: DATE,
  correlation_id: `corr-${id}`,
  dataset_prefix: '',
  prediction_run_mode: 'RETRY',
  state: 'dispatching',
  expected: 0,
  completed: 0,
  total_predictions: 0,
  started_at: START.toISOString(),
  dispatched_at: null,
  ended_at: null,
  updated_at: START.toISOString(),
  summary: { note: 'created', nested: { list: [1, 2] } },
  consolidation: null,
  error: null,
  ...overrides,
});

const players = (n: number, prefix = 'player') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

const outcome = (player: string, i: number): PlayerOutcome => ({
  player_lookup: player,
  game_id: i % 7 === 0 ? null : `20261122_G${i % 11}`,
  outcome: (['published', 'skipped', 'blocked', 'publish_failed'] as const)[i % 4] as PlayerOutcome['outcome'],
  reason: i % 4 === 3 ? `publish_failed: deadline exceeded for message ${i} ${'x'.repeat(i % 50)}` : 'quality_sufficient',
  line_source: i % 5 === 0 ? null : 'ACTUAL_PROP',
  line_value: i % 5 === 0 ? null : 10 + (i % 20) + 0.5,
  sportsbook: i % 5 === 0 ? null : 'draftkings',
});

export function batchStoreContract(name: string, makeStore: StoreFactory): void {
  const fresh = async () => {
    const clock = new ManualClock(START);
    const { store, peer } = await makeStore(clock);
    /** The handle the i-th of several racing callers uses. */
    const handle = (i: number) => (i % 2 === 0 ? store : peer);
    return { clock, store, handle };
  };

  describe(`${name}: leases`, () => {
    it('of 10 concurrent claims for one date exactly one wins; the others see the winner', async () => {
      const { store, handle } = await fresh();
      const ids = Array.from({ length: 10 }, (_, i) => `claim${i}`);
      const results = await Promise.all(ids.map((batchId, i) => handle(i).claimLease({ gameDate: DATE, batchId, ttlMs: 60_000, force: false })));
      const winners = results.flatMap((r, i) => (r.ok ? [ids[i]] : []));
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual(Array(9).fill({ ok: false, holderBatchId: winners[0] }));
      expect(await store.leaseHolder(DATE)).toBe(winners[0]);
    });

    it('force takes over a live lease; expiry and the holder batch ending free the date; release only by the holder', async () => {
      const { store, clock } = await fresh();
      await store.createBatch(batchRecord('a'));
      expect(await store.claimLease({ gameDate: DATE, batchId: 'a', ttlMs: 60_000, force: false })).toEqual({ ok: true, tookOverBatchId: null });
      expect(await store.claimLease({ gameDate: DATE, batchId: 'b', ttlMs: 60_000, force: false })).toEqual({ ok: false, holderBatchId: 'a' });
      expect(await store.claimLease({ gameDate: DATE, batchId: 'c', ttlMs: 60_000, force: true })).toEqual({ ok: true, tookOverBatchId: 'a' });
      await store.releaseLease(DATE, 'a');
      expect(await store.leaseHolder(DATE)).toBe('c');
      clock.advance(60_001);
      expect(await store.leaseHolder(DATE)).toBeNull();
      expect(await store.claimLease({ gameDate: DATE, batchId: 'd', ttlMs: 60_000, force: false })).toEqual({ ok: true, tookOverBatchId: null });
      await store.createBatch(batchRecord('d'));
      await store.transition('d', 'dispatching', 'failed', { error: 'boom' });
      expect(await store.leaseHolder(DATE)).toBeNull();
      expect(await store.claimLease({ gameDate: DATE, batchId: 'e', ttlMs: 60_000, force: false })).toEqual({ ok: true, tookOverBatchId: null });
      await store.releaseLease(DATE, 'e');
      expect(await store.leaseHolder(DATE)).toBeNull();
    });
  });

  describe(`${name}: batch records`, () => {
    it('round-trips a record, refuses a second create, and answers null for an unknown batch', async () => {
      const { store } = await fresh();
      const record = batchRecord('a');
      await store.createBatch(record);
      expect(await store.getBatch('a')).toEqual(record);
      await expect(store.createBatch(record)).rejects.toThrow('batch a already exists');
      expect(await store.getBatch('nope')).toBeNull();
    });

    it('lists active batches newest first and finds the latest batch of a date whatever its state', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('old', { started_at: '2026-11-22T10:00:00.000Z' }));
      await store.createBatch(batchRecord('new', { started_at: '2026-11-22T12:00:00.000Z' }));
      await store.createBatch(batchRecord('ended', { started_at: '2026-11-22T13:00:00.000Z' }));
      await store.createBatch(batchRecord('other-date', { game_date: '2026-11-23', started_at: '2026-11-22T14:00:00.000Z' }));
      await store.transition('ended', 'dispatching', 'complete');
      expect((await store.listActive()).map((b) => b.batch_id)).toEqual(['other-date', 'new', 'old']);
      expect((await store.latestForDate(DATE))?.batch_id).toBe('ended');
      expect((await store.latestForDate('2026-11-23'))?.batch_id).toBe('other-date');
      expect(await store.latestForDate('2026-11-24')).toBeNull();
    });
  });

  describe(`${name}: completions`, () => {
    it('30 players each delivered 3 times at once: completed is 30 and exactly one caller finishes the batch', async () => {
      const { store, handle } = await fresh();
      await store.createBatch(batchRecord('a'));
      const ps = players(30);
      await store.finishDispatch('a', ps, { published: 30 });
      const results = await Promise.all([...ps, ...ps, ...ps].map((p, i) => handle(i).recordCompletion('a', p, 2)));
      expect(results.filter((r) => r.kind === 'recorded')).toHaveLength(30);
      expect(results.filter((r) => r.kind === 'recorded' && r.finished)).toHaveLength(1);
      expect(results.every((r) => ['recorded', 'duplicate', 'batch_ended'].includes(r.kind))).toBe(true);
      expect(await store.getBatch('a')).toMatchObject({ state: 'consolidating', expected: 30, completed: 30, total_predictions: 60, summary: { published: 30 } });
    });

    it('a duplicate changes nothing; a stranger is not in the batch; an unknown batch and an ended batch are reported', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('a'));
      await store.finishDispatch('a', ['p1', 'p2'], {});
      expect(await store.recordCompletion('a', 'p1', 3)).toMatchObject({ kind: 'recorded', finished: false, batch: { completed: 1, total_predictions: 3 } });
      expect(await store.recordCompletion('a', 'p1', 3)).toMatchObject({ kind: 'duplicate', batch: { completed: 1 } });
      expect(await store.recordCompletion('a', 'stranger', 3)).toMatchObject({ kind: 'not_in_batch' });
      expect(await store.recordCompletion('nope', 'p1', 3)).toEqual({ kind: 'unknown_batch' });
      expect(await store.recordCompletion('a', 'p2', 0)).toMatchObject({ kind: 'recorded', finished: true, batch: { state: 'consolidating', completed: 2, total_predictions: 3 } });
      expect(await store.recordCompletion('a', 'p1', 3)).toMatchObject({ kind: 'batch_ended' });
    });

    it('finishDispatch finishes the batch when every published player already reported, counting only published players', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('a'));
      for (const p of ['p1', 'p2', 'unpublished']) await store.recordCompletion('a', p, 2);
      expect(await store.getBatch('a')).toMatchObject({ state: 'dispatching', completed: 3 });
      const done = await store.finishDispatch('a', ['p1', 'p2'], { published: 2 });
      expect(done).toMatchObject({ finished: true, batch: { state: 'consolidating', expected: 2, completed: 2, total_predictions: 4, summary: { published: 2 } } });
      expect(done.batch.dispatched_at).not.toBeNull();
      await expect(store.finishDispatch('a', ['p1'], {})).rejects.toThrow('not dispatching');
      await expect(store.finishDispatch('nope', ['p1'], {})).rejects.toThrow('unknown batch nope');
    });

    it('finishDispatch with nobody published finishes at once; with players outstanding the batch runs', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('empty'));
      expect(await store.finishDispatch('empty', [], {})).toMatchObject({ finished: true, batch: { state: 'consolidating', expected: 0 } });
      await store.createBatch(batchRecord('a'));
      expect(await store.finishDispatch('a', ['p1'], {})).toMatchObject({ finished: false, batch: { state: 'running', expected: 1, completed: 0 } });
    });

    it('knows which of 500 published players belong to the batch', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('a'));
      const ps = players(500);
      await store.finishDispatch('a', ps, {});
      expect(await store.recordCompletion('a', 'player499', 1)).toMatchObject({ kind: 'recorded' });
      expect(await store.recordCompletion('a', 'player000', 1)).toMatchObject({ kind: 'recorded' });
      expect(await store.recordCompletion('a', 'player500', 1)).toMatchObject({ kind: 'not_in_batch' });
      expect(await store.getBatch('a')).toMatchObject({ expected: 500, completed: 2 });
    });
  });

  describe(`${name}: transitions and outcomes`, () => {
    it('transition is a compare-and-set: of concurrent callers exactly one wins, and the patch lands', async () => {
      const { store, handle } = await fresh();
      await store.createBatch(batchRecord('a'));
      await store.finishDispatch('a', ['p1'], {});
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => handle(i).transition('a', 'running', 'consolidating', { summary: { winner: i } })));
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(await store.getBatch('a')).toMatchObject({ state: 'consolidating', summary: winners[0]?.summary });
      expect(await store.transition('a', 'running', 'complete')).toBeNull();
      const ended = await store.transition('a', ['running', 'consolidating'], 'partial', { consolidation: { merge_ok: true, checks: { warnings: ['w'] } }, error: 'late' });
      expect(ended).toMatchObject({ state: 'partial', consolidation: { merge_ok: true, checks: { warnings: ['w'] } }, error: 'late' });
      expect(ended?.ended_at).not.toBeNull();
      expect(await store.getBatch('a')).toEqual(ended);
      expect(await store.transition('nope', 'running', 'failed')).toBeNull();
    });

    it('outcomes of 500 players round-trip in order, and a shorter list replaces them', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('a'));
      expect(await store.getOutcomes('a')).toEqual([]);
      const all = players(500).map(outcome);
      await store.putOutcomes('a', all);
      expect(await store.getOutcomes('a')).toEqual(all);
      await store.putOutcomes('a', all.slice(0, 3));
      expect(await store.getOutcomes('a')).toEqual(all.slice(0, 3));
      await expect(store.putOutcomes('nope', all)).rejects.toThrow('unknown batch nope');
    });
  });

  describe(`${name}: date lock`, () => {
    it('has one holder among concurrent callers; the holder renews; another can take it after release or expiry', async () => {
      const { store, clock, handle } = await fresh();
      const holders = Array.from({ length: 6 }, (_, i) => `h${i}`);
      const got = await Promise.all(holders.map((h, i) => handle(i).acquireDateLock(DATE, h, 60_000)));
      expect(got.filter(Boolean)).toHaveLength(1);
      const holder = holders[got.indexOf(true)] as string;
      const other = holders.find((h) => h !== holder) as string;
      expect(await store.acquireDateLock(DATE, holder, 60_000)).toBe(true);
      await store.releaseDateLock(DATE, other);
      expect(await store.acquireDateLock(DATE, other, 60_000)).toBe(false);
      await store.releaseDateLock(DATE, holder);
      expect(await store.acquireDateLock(DATE, other, 60_000)).toBe(true);
      expect(await store.acquireDateLock('2026-11-23', holder, 60_000)).toBe(true);
      clock.advance(60_001);
      expect(await store.acquireDateLock(DATE, holder, 60_000)).toBe(true);
      expect(await store.acquireDateLock(DATE, other, 60_000)).toBe(false);
    });
  });
}
