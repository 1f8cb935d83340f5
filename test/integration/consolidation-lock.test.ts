/** Consolidation takes the store's date lock; a batch that cannot get it in time fails loudly and frees its date. */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBatchStore } from '../../shared/adapters/local-batch-store/local-batch-store.js';
import { LocalBus } from '../../shared/adapters/local-bus/local-bus.js';
import { ManualClock } from '../../shared/ports/clock.js';
import { consolidateBatch } from '../../services/coordinator/batch/consolidate.js';
import type { CoordinatorDeps } from '../../services/coordinator/deps.js';
import { createTinyWorld, type TinyWorld } from '../helpers/tiny-world.js';
import { silentLogger } from '../helpers/stack.js';
import { batchRecord } from '../helpers/batch-store-contract.js';

let world: TinyWorld | undefined;
afterEach(async () => {
  await world?.warehouse.close();
  world = undefined;
});

async function consolidatingBatch(): Promise<{ deps: CoordinatorDeps; store: LocalBatchStore; bus: LocalBus }> {
  world = await createTinyWorld({ gameDate: '2026-11-22', players: 0, models: 0 });
  const clock = new ManualClock(new Date('2026-11-22T15:00:00Z'));
  const store = new LocalBatchStore(clock);
  const bus = new LocalBus();
  const deps: CoordinatorDeps = {
    warehouse: world.warehouse,
    bus,
    batches: store,
    clock,
    logger: silentLogger,
    settings: { topics: { request: 'req', phase5: 'phase5' }, leaseTtlMs: 60_000, publishChunkSize: 100, outputDataset: 'nba_predictions', dateLock: { ttlMs: 60_000, waitMs: 0 } },
  };
  await store.claimLease({ gameDate: '2026-11-22', batchId: 'b', ttlMs: 60_000, force: false });
  await store.createBatch(batchRecord('b'));
  await store.finishDispatch('b', ['p1'], {});
  await store.recordCompletion('b', 'p1', 1);
  return { deps, store, bus };
}

describe('consolidation and the date lock', () => {
  it('when another consolidation holds the date past the wait, the batch ends failed with the reason, frees its date and merges nothing', async () => {
    const { deps, store, bus } = await consolidatingBatch();
    expect(await store.acquireDateLock('2026-11-22', 'other-batch', 60_000)).toBe(true);
    const ended = await consolidateBatch(deps, 'b');
    expect(ended).toMatchObject({ state: 'failed', consolidation: null, error: expect.stringContaining('consolidation not run: date lock 2026-11-22: still held') });
    expect(await store.leaseHolder('2026-11-22')).toBeNull();
    expect(bus.published('phase5')).toHaveLength(0);
    const history = await deps.warehouse.query({ name: 'h', sql: 'SELECT run_id, status FROM {{nba_reference.processor_run_history}}' });
    expect(history).toEqual([{ run_id: 'b', status: 'failed' }]);
    await bus.close();
  });

  it('when the date is free, consolidation runs and leaves the lock free for the next batch', async () => {
    const { deps, store, bus } = await consolidatingBatch();
    const ended = await consolidateBatch(deps, 'b');
    expect(ended).toMatchObject({ state: 'complete', consolidation: { merge_ok: true } });
    expect(await store.acquireDateLock('2026-11-22', 'next-batch', 60_000)).toBe(true);
    await bus.close();
  });
});
