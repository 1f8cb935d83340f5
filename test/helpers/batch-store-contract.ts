/**
 * The BatchStore contract: one behavioural suite every adapter must pass (the embedded DuckDB store, Firestore against its
 * emulator). Each test gets a fresh store and a hand-moved clock. Concurrency is real: racing calls alternate between two
 * handles on the same data, as two coordinator instances would hold (an adapter may queue its own calls in-process).
 * Expected records are written out here, never computed by the state machine under test.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/ports/clock.js';
import type { BatchStore, PlayerCompletion, PlayerOutcome } from '../../shared/ports/batch-store.js';
import type { BatchRecord, DispatchSummary } from '../../shared/batch/batch-record.js';

/** `peer` is a second handle on the same data (another process's view); a store serialised in-process passes itself. */
export type StoreFactory = (clock: ManualClock) => Promise<{ store: BatchStore; peer: BatchStore }>;

const DATE = '2026-11-22';
const START = new Date('2026-11-22T15:00:00Z');

export const batchRecord = (id: string, overrides: Partial<BatchRecord> = {}): BatchRecord => ({
  batch_id: id,
  game_date: DATE,
  correlation_id: `corr-${id}`,
  dataset_prefix: '',
  prediction_run_mode: 'RETRY',
  requested_run_mode: 'RETRY',
  purpose: 'daily',
  trigger_source: 'test',
  parent_processor: null,
  state: 'dispatching',
  expected: 0,
  completed: 0,
  failed: 0,
  total_predictions: 0,
  staged_rows: 0,
  started_at: START.toISOString(),
  dispatched_at: null,
  ended_at: null,
  updated_at: START.toISOString(),
  summary: null,
  consolidation: null,
  closing: null,
  superseded_by: null,
  parent_batch_id: null,
  supersede: null,
  error: null,
  ...overrides,
});

export const summary = (overrides: Partial<DispatchSummary> = {}): DispatchSummary => ({
  outcome: 'dispatched',
  game_date: DATE,
  run_mode: 'RETRY',
  requested_mode: 'RETRY',
  dataset_prefix: '',
  games: 3,
  context_games: 3,
  completeness: null,
  candidates: 0,
  total_requests: 0,
  published: 0,
  publish_failed: 0,
  messages: 0,
  lines: null,
  gate: null,
  models: { champion: 'm1', systems: ['m1'] },
  warnings: [],
  warehouse_queries: 7,
  phase_ms: { total: 10 },
  stall_reason: null,
  ...overrides,
});

const players = (n: number, prefix = 'player') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

const done = (player: string, predictions = 2): PlayerCompletion => ({
  player_lookup: player,
  kind: 'predicted',
  predictions,
  staged_rows: predictions,
  reason: null,
});

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
      const results = await Promise.all(
        ids.map((batchId, i) => handle(i).claimLease({ gameDate: DATE, batchId, ttlMs: 60_000, force: false })),
      );
      const winners = results.flatMap((r, i) => (r.ok ? [ids[i]] : []));
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual(Array(9).fill({ ok: false, holderBatchId: winners[0] }));
      expect(await store.leaseHolder(DATE)).toBe(winners[0]);
    });

    it('force takes over a live lease; expiry and the holder batch ending free the date; release only by the holder', async () => {
      const { store, clock } = await fresh();
      await store.createBatch(batchRecord('a'));
      expect(await store.claimLease({ gameDate: DATE, batchId: 'a', ttlMs: 60_000, force: false })).toEqual({
        ok: true,
        tookOverBatchId: null,
      });
      expect(await store.claimLease({ gameDate: DATE, batchId: 'b', ttlMs: 60_000, force: false })).toEqual({
        ok: false,
        holderBatchId: 'a',
      });
      expect(await store.claimLease({ gameDate: DATE, batchId: 'c', ttlMs: 60_000, force: true })).toEqual({
        ok: true,
        tookOverBatchId: 'a',
      });
      await store.releaseLease(DATE, 'a');
      expect(await store.leaseHolder(DATE)).toBe('c');
      clock.advance(60_001);
      expect(await store.leaseHolder(DATE)).toBeNull();
      expect(await store.claimLease({ gameDate: DATE, batchId: 'd', ttlMs: 60_000, force: false })).toEqual({
        ok: true,
        tookOverBatchId: null,
      });
      await store.createBatch(batchRecord('d'));
      await store.update('d', (r) => ({ ...r, state: 'failed', error: 'boom' }));
      expect(await store.leaseHolder(DATE)).toBeNull();
      expect(await store.claimLease({ gameDate: DATE, batchId: 'e', ttlMs: 60_000, force: false })).toEqual({
        ok: true,
        tookOverBatchId: null,
      });
      await store.releaseLease(DATE, 'e');
      expect(await store.leaseHolder(DATE)).toBeNull();
    });
  });

  describe(`${name}: batch records`, () => {
    it('round-trips a record, refuses a second create, and answers null for an unknown batch', async () => {
      const { store } = await fresh();
      const record = batchRecord('a', {
        summary: summary({ warnings: ['w1'], lines: { by_source: { ODDS_API: 3 }, by_sportsbook: {}, no_line_reasons: {} } }),
      });
      await store.createBatch(record);
      expect(await store.getBatch('a')).toEqual(record);
      await expect(store.createBatch(record)).rejects.toThrow('batch a already exists');
      expect(await store.getBatch('nope')).toBeNull();
    });

    it('lists open batches newest first (an ended batch stays open until its phase-5 message and run history are written) and finds the latest batch of a date', async () => {
      const { store } = await fresh();
      const closing = {
        phase5_status: 'success' as const,
        reasons: [],
        phase5_message_id: null,
        phase5_error: null,
        phase5_published_at: null,
        run_recorded_at: null,
        run_error: null,
      };
      await store.createBatch(batchRecord('old', { started_at: '2026-11-22T10:00:00.000Z' }));
      await store.createBatch(batchRecord('new', { started_at: '2026-11-22T12:00:00.000Z' }));
      await store.createBatch(batchRecord('ended', { started_at: '2026-11-22T13:00:00.000Z' }));
      await store.createBatch(batchRecord('closed', { started_at: '2026-11-22T13:30:00.000Z' }));
      await store.createBatch(batchRecord('other-date', { game_date: '2026-11-23', started_at: '2026-11-22T14:00:00.000Z' }));
      await store.update('ended', (r) => ({ ...r, state: 'complete', closing }));
      await store.update('closed', (r) => ({
        ...r,
        state: 'complete',
        closing: { ...closing, phase5_message_id: '1', run_recorded_at: START.toISOString() },
      }));
      expect((await store.listOpen()).map((b) => b.batch_id)).toEqual(['other-date', 'ended', 'new', 'old']);
      expect((await store.latestForDate(DATE))?.batch_id).toBe('closed');
      expect((await store.latestForDate('2026-11-23'))?.batch_id).toBe('other-date');
      expect(await store.latestForDate('2026-11-24')).toBeNull();
    });
  });

  describe(`${name}: completions`, () => {
    it('30 players each reported 3 times at once, in events of 5: completed is 30 and exactly one caller finishes the batch', async () => {
      const { store, handle } = await fresh();
      await store.createBatch(batchRecord('a'));
      const ps = players(30);
      await store.finishDispatch('a', ps, summary({ published: 30 }));
      const events = Array.from({ length: 6 }, (_, i) => ps.slice(i * 5, i * 5 + 5).map((p) => done(p)));
      const results = await Promise.all([...events, ...events, ...events].map((e, i) => handle(i).recordCompletions('a', e)));
      const recorded = results.flatMap((r) => (r.kind === 'recorded' ? r.recorded : []));
      expect(recorded.sort()).toEqual(ps);
      expect(results.filter((r) => r.kind === 'recorded' && r.finished)).toHaveLength(1);
      expect(results.every((r) => r.kind === 'recorded' || r.kind === 'batch_ended')).toBe(true);
      expect(await store.getBatch('a')).toMatchObject({
        state: 'consolidating',
        expected: 30,
        completed: 30,
        failed: 0,
        total_predictions: 60,
        staged_rows: 60,
        summary: { published: 30 },
      });
      expect((await store.getCompletions('a')).map((c) => c.player_lookup)).toEqual(ps);
    });

    it('a player twice in one event: the first completion is recorded, the repeat is a duplicate', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('a'));
      await store.finishDispatch('a', ['p1', 'p2'], summary());
      expect(await store.recordCompletions('a', [done('p1', 3), done('p1', 5), done('p2', 2)])).toMatchObject({
        kind: 'recorded',
        recorded: ['p1', 'p2'],
        duplicates: ['p1'],
        notInBatch: [],
        batch: { completed: 2, total_predictions: 5 },
      });
      expect(await store.getCompletions('a')).toEqual([done('p1', 3), done('p2', 2)]);
    });

    it('a duplicate changes nothing; a stranger is not in the batch; a failure counts as failed; an unknown batch and an ended batch are reported', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('a'));
      await store.finishDispatch('a', ['p1', 'p2', 'p3'], summary());
      expect(await store.recordCompletions('a', [done('p1', 3), done('stranger')])).toMatchObject({
        kind: 'recorded',
        recorded: ['p1'],
        notInBatch: ['stranger'],
        duplicates: [],
        finished: false,
        batch: { completed: 1, total_predictions: 3 },
      });
      expect(await store.recordCompletions('a', [done('p1', 3)])).toMatchObject({
        kind: 'recorded',
        recorded: [],
        duplicates: ['p1'],
        batch: { completed: 1 },
      });
      expect(await store.recordCompletions('nope', [done('p1')])).toEqual({ kind: 'unknown_batch' });
      const dead: PlayerCompletion = {
        player_lookup: 'p2',
        kind: 'dead_lettered',
        predictions: 0,
        staged_rows: 0,
        reason: 'dead-lettered after 15 attempts',
      };
      expect(await store.recordCompletions('a', [dead])).toMatchObject({
        kind: 'recorded',
        finished: false,
        batch: { completed: 2, failed: 1 },
      });
      expect(
        await store.recordCompletions('a', [
          { player_lookup: 'p3', kind: 'skipped', predictions: 0, staged_rows: 0, reason: 'no_features' },
        ]),
      ).toMatchObject({
        kind: 'recorded',
        finished: true,
        batch: { state: 'consolidating', completed: 3, failed: 1, total_predictions: 3 },
      });
      expect(await store.recordCompletions('a', [done('p1', 3)])).toMatchObject({ kind: 'batch_ended' });
      expect(await store.getCompletions('a')).toEqual([
        done('p1', 3),
        dead,
        { player_lookup: 'p3', kind: 'skipped', predictions: 0, staged_rows: 0, reason: 'no_features' },
      ]);
    });

    it('finishDispatch finishes the batch when every published player already reported, counting only published players', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('a'));
      expect(await store.recordCompletions('a', [done('p1'), done('p2'), done('unpublished')])).toMatchObject({
        kind: 'recorded',
        recorded: ['p1', 'p2', 'unpublished'],
        finished: false,
      });
      expect(await store.getBatch('a')).toMatchObject({ state: 'dispatching', completed: 0 });
      const finished = await store.finishDispatch('a', ['p1', 'p2'], summary({ published: 2 }));
      expect(finished).toMatchObject({
        finished: true,
        batch: { state: 'consolidating', expected: 2, completed: 2, total_predictions: 4, summary: { published: 2 } },
      });
      expect(finished.batch.dispatched_at).not.toBeNull();
      expect(finished.batch.consolidation).toMatchObject({ attempts: 0, merge: null });
      await expect(store.finishDispatch('a', ['p1'], summary())).rejects.toThrow('not dispatching');
      await expect(store.finishDispatch('nope', ['p1'], summary())).rejects.toThrow('unknown batch nope');
    });

    it('finishDispatch with nobody published finishes at once; with players outstanding the batch runs', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('empty'));
      expect(await store.finishDispatch('empty', [], summary())).toMatchObject({
        finished: true,
        batch: { state: 'consolidating', expected: 0 },
      });
      await store.createBatch(batchRecord('a'));
      expect(await store.finishDispatch('a', ['p1'], summary())).toMatchObject({
        finished: false,
        batch: { state: 'running', expected: 1, completed: 0 },
      });
    });

    it('knows which of 500 published players belong to the batch', async () => {
      const { store } = await fresh();
      await store.createBatch(batchRecord('a'));
      await store.finishDispatch('a', players(500), summary());
      expect(await store.recordCompletions('a', [done('player499'), done('player000'), done('player500')])).toMatchObject({
        recorded: ['player499', 'player000'],
        notInBatch: ['player500'],
      });
      expect(await store.getBatch('a')).toMatchObject({ expected: 500, completed: 2 });
    });
  });

  describe(`${name}: updates and outcomes`, () => {
    it('update is a compare-and-set: of concurrent callers whose change applies only to a running batch, exactly one wins', async () => {
      const { store, handle } = await fresh();
      await store.createBatch(batchRecord('a'));
      await store.finishDispatch('a', ['p1'], summary());
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          handle(i).update('a', (r) => (r.state === 'running' ? { ...r, state: 'consolidating', error: `winner ${i}` } : null)),
        ),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(await store.getBatch('a')).toMatchObject({ state: 'consolidating', error: winners[0]?.error });
      expect(await store.update('a', (r) => (r.state === 'running' ? r : null))).toBeNull();
      expect(await store.update('nope', (r) => r)).toBeNull();
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

  describe(`${name}: locks`, () => {
    it('has one holder among concurrent callers; the holder renews; another can take it after release or expiry', async () => {
      const { store, clock, handle } = await fresh();
      const key = 'merge.default.player_prop_predictions';
      const holders = Array.from({ length: 6 }, (_, i) => `h${i}`);
      const got = await Promise.all(holders.map((h, i) => handle(i).acquireLock(key, h, 60_000)));
      expect(got.filter(Boolean)).toHaveLength(1);
      const holder = holders[got.indexOf(true)] as string;
      const other = holders.find((h) => h !== holder) as string;
      expect(await store.lockHolder(key)).toBe(holder);
      expect(await store.acquireLock(key, holder, 60_000)).toBe(true);
      await store.releaseLock(key, other);
      expect(await store.acquireLock(key, other, 60_000)).toBe(false);
      await store.releaseLock(key, holder);
      expect(await store.lockHolder(key)).toBeNull();
      expect(await store.acquireLock(key, other, 60_000)).toBe(true);
      expect(await store.acquireLock('another.key', holder, 60_000)).toBe(true);
      clock.advance(60_001);
      expect(await store.lockHolder(key)).toBeNull();
      expect(await store.acquireLock(key, holder, 60_000)).toBe(true);
      expect(await store.acquireLock(key, other, 60_000)).toBe(false);
    });
  });

  describe(`${name}: events`, () => {
    const event = (id: string, kind: string, at: Date, ttlMs = 3_600_000, data: Record<string, unknown> = { n: 1 }) => ({
      id,
      kind,
      at: at.toISOString(),
      expiresAt: new Date(at.getTime() + ttlMs).toISOString(),
      data,
    });

    it('of 8 concurrent recordings of one event exactly one records it; a deleted event can be recorded again', async () => {
      const { store, clock, handle } = await fresh();
      const e = event('alert.batch_end.b1', 'alert', clock.now(), 3_600_000, { title: 'batch b1 partial', players: ['a', 'b'] });
      const got = await Promise.all(Array.from({ length: 8 }, (_, i) => handle(i).recordEvent(e)));
      expect(got.filter(Boolean)).toHaveLength(1);
      expect(await store.recordEvent(e)).toBe(false);
      expect(await store.listEvents('alert', START.toISOString())).toEqual([e]);
      await store.deleteEvent(e.id);
      await store.deleteEvent(e.id);
      expect(await store.listEvents('alert', START.toISOString())).toEqual([]);
      expect(await store.recordEvent(e)).toBe(true);
    });

    it('lists the events of one kind since a time, oldest first; an expired event is gone and its id free again', async () => {
      const { store, clock } = await fresh();
      const t0 = clock.now();
      const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
      const stalls = [event('stall.b3', 'stall', at(30)), event('stall.b1', 'stall', at(0)), event('stall.b2', 'stall', at(10))];
      for (const e of stalls) expect(await store.recordEvent(e)).toBe(true);
      expect(await store.recordEvent(event('alert.x', 'alert', at(5)))).toBe(true);
      expect((await store.listEvents('stall', at(0).toISOString())).map((e) => e.id)).toEqual(['stall.b1', 'stall.b2', 'stall.b3']);
      expect((await store.listEvents('stall', at(10).toISOString())).map((e) => e.id)).toEqual(['stall.b2', 'stall.b3']);
      expect(await store.listEvents('nothing', at(0).toISOString())).toEqual([]);
      clock.advance(60 * 60_000 + 1); // stall.b1 (expires at +60 min) has expired; the others have not
      expect((await store.listEvents('stall', at(0).toISOString())).map((e) => e.id)).toEqual(['stall.b2', 'stall.b3']);
      expect(await store.recordEvent(event('stall.b1', 'stall', clock.now()))).toBe(true);
      expect(await store.recordEvent(event('stall.b2', 'stall', clock.now()))).toBe(false);
    });

    it('refuses an event id that is not a plain key', async () => {
      const { store, clock } = await fresh();
      await expect(store.recordEvent(event('a/b', 'alert', clock.now()))).rejects.toThrow(/invalid event id/);
    });
  });
}
