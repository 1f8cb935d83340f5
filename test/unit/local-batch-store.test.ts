import { describe, expect, it } from 'vitest';
import { LocalBatchStore } from '../../shared/adapters/local-batch-store/local-batch-store.js';
import { ManualClock } from '../../shared/ports/clock.js';
import type { BatchRecord } from '../../shared/ports/batch-store.js';

const clock = () => new ManualClock(new Date('2026-11-22T15:00:00Z'));
const record = (id: string, date = '2026-11-22'): BatchRecord => ({
  batch_id: id, game_date: date, correlation_id: id, dataset_prefix: '', prediction_run_mode: 'RETRY', state: 'dispatching',
  expected: 0, completed: 0, total_predictions: 0, started_at: '2026-11-22T15:00:00.000Z', dispatched_at: null, ended_at: null,
  updated_at: '2026-11-22T15:00:00.000Z', summary: {}, consolidation: null, error: null,
});

describe('local batch store', () => {
  it('a live lease blocks a second claim; force takes it over; an expired lease frees the date', async () => {
    const c = clock();
    const store = new LocalBatchStore(c);
    await store.createBatch(record('a'));
    expect(await store.claimLease({ gameDate: '2026-11-22', batchId: 'a', ttlMs: 60_000, force: false })).toEqual({ ok: true, tookOverBatchId: null });
    expect(await store.claimLease({ gameDate: '2026-11-22', batchId: 'b', ttlMs: 60_000, force: false })).toEqual({ ok: false, holderBatchId: 'a' });
    expect(await store.claimLease({ gameDate: '2026-11-22', batchId: 'c', ttlMs: 60_000, force: true })).toEqual({ ok: true, tookOverBatchId: 'a' });
    c.advance(60_001);
    expect(await store.claimLease({ gameDate: '2026-11-22', batchId: 'd', ttlMs: 60_000, force: false })).toEqual({ ok: true, tookOverBatchId: null });
  });

  it('records a completion once: a duplicate changes neither the count nor the predictions', async () => {
    const store = new LocalBatchStore(clock());
    await store.createBatch(record('a'));
    await store.finishDispatch('a', ['p1', 'p2'], {});
    expect(await store.recordCompletion('a', 'p1', 3)).toMatchObject({ kind: 'recorded', finished: false });
    expect(await store.recordCompletion('a', 'p1', 3)).toMatchObject({ kind: 'duplicate' });
    expect(await store.getBatch('a')).toMatchObject({ completed: 1, total_predictions: 3 });
    expect(await store.recordCompletion('a', 'stranger', 3)).toMatchObject({ kind: 'not_in_batch' });
    expect(await store.recordCompletion('nope', 'p1', 3)).toEqual({ kind: 'unknown_batch' });
  });

  it('exactly one caller finishes the batch: the last completion, or the end of dispatch when every completion came first', async () => {
    const store = new LocalBatchStore(clock());
    await store.createBatch(record('a'));
    await store.finishDispatch('a', ['p1', 'p2'], {});
    await store.recordCompletion('a', 'p1', 3);
    const results = await Promise.all([store.recordCompletion('a', 'p2', 3), store.recordCompletion('a', 'p2', 3)]);
    expect(results.filter((r) => r.kind === 'recorded' && r.finished)).toHaveLength(1);
    expect((await store.getBatch('a'))?.state).toBe('consolidating');
    expect(await store.recordCompletion('a', 'p1', 3)).toMatchObject({ kind: 'batch_ended' });

    await store.createBatch(record('b'));
    await store.recordCompletion('b', 'p1', 2);
    await store.recordCompletion('b', 'p2', 2);
    expect(await store.finishDispatch('b', ['p1', 'p2'], {})).toMatchObject({ finished: true, batch: { state: 'consolidating', completed: 2, expected: 2 } });
  });

  it('transition is a compare-and-set on the state', async () => {
    const store = new LocalBatchStore(clock());
    await store.createBatch(record('a'));
    expect(await store.transition('a', 'running', 'complete')).toBeNull();
    expect(await store.transition('a', 'dispatching', 'failed', { error: 'boom' })).toMatchObject({ state: 'failed', error: 'boom' });
    expect((await store.getBatch('a'))?.ended_at).not.toBeNull();
  });
});
