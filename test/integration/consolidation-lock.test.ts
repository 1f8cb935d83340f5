/**
 * Consolidation takes the table-wide merge lock: while another live consolidation holds it the step answers `retry` (a 5xx:
 * Pub/Sub redelivers) and the batch stays consolidating; a lock whose holder's batch has ended is taken over at once; a
 * reset frees the lock its batch held.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/ports/clock.js';
import { consolidateBatch } from '../../services/coordinator/batch/consolidate.js';
import { resetBatch } from '../../services/coordinator/batch/stalls.js';
import { mergeLockKey } from '../../services/coordinator/batch/locks.js';
import { loadCoordinatorConfig } from '../../services/coordinator/config.js';
import { buildCoordinatorDeps, type CoordinatorRuntime } from '../../services/coordinator/wiring.js';
import { createTinyWorld, type TinyWorld } from '../helpers/tiny-world.js';
import { silentLogger } from '../helpers/stack.js';
import { batchRecord, summary } from '../helpers/batch-store-contract.js';

let world: TinyWorld | undefined;
let runtime: CoordinatorRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  await world?.warehouse.close();
  world = undefined;
  runtime = undefined;
});

const DATE = '2026-11-22';
const KEY = mergeLockKey('');

async function consolidatingBatch(id: string) {
  world ??= await createTinyWorld({ gameDate: DATE, players: 0, models: 0 });
  runtime ??= await buildCoordinatorDeps(
    loadCoordinatorConfig({
      COORDINATOR_API_KEY: 'k'.repeat(32),
      MERGE_LOCK_WAIT_SECONDS: '0',
      VERIFY_WAIT_SECONDS: '0',
      LOG_LEVEL: 'silent',
    }),
    {
      logger: silentLogger,
      duckdb: world.warehouse,
      clock: new ManualClock(new Date('2026-11-22T15:00:00Z')),
    },
  );
  const store = runtime.deps.batches;
  await store.claimLease({ gameDate: DATE, batchId: id, ttlMs: 60_000, force: false });
  await store.createBatch(batchRecord(id));
  await store.finishDispatch(id, ['p1'], summary({ published: 1 }));
  await store.recordCompletions(id, [{ player_lookup: 'p1', kind: 'predicted', predictions: 1, staged_rows: 1, reason: null }]);
  return { deps: runtime.deps, store };
}

describe('consolidation and the merge lock', () => {
  it('while a live consolidation of another batch holds the table, the step asks to be retried and the batch stays consolidating', async () => {
    const { deps, store } = await consolidatingBatch('b');
    await store.createBatch(batchRecord('other', { state: 'consolidating' }));
    expect(await store.acquireLock(KEY, 'other:1234', 60_000)).toBe(true);
    expect(await consolidateBatch(deps, 'b')).toEqual({ kind: 'retry', reason: `the lock ${KEY} is held by other:1234` });
    expect(await store.getBatch('b')).toMatchObject({ state: 'consolidating', closing: null });
  });

  it('a lock left by a batch that has ended is taken over: the batch consolidates', async () => {
    const { deps, store } = await consolidatingBatch('b');
    await store.createBatch(batchRecord('dead', { state: 'failed' }));
    expect(await store.acquireLock(KEY, 'dead:beef', 60_000)).toBe(true);
    const outcome = await consolidateBatch(deps, 'b');
    // p1 reported one staged row that the warehouse does not have: merged nothing, so the batch cannot succeed.
    expect(outcome.kind).toBe('consolidated');
    expect(await store.getBatch('b')).toMatchObject({
      state: 'failed',
      closing: { phase5_status: 'failed', reasons: ['0 rows merged although workers reported 1 staged rows'] },
    });
    expect(await store.lockHolder(KEY)).toBeNull();
  });

  it('a reset frees the merge lock its batch held, and its date', async () => {
    const { deps, store } = await consolidatingBatch('b');
    expect(await store.acquireLock(KEY, 'b:cafe', 60_000)).toBe(true);
    expect(await resetBatch(deps, { batchId: 'b' })).toMatchObject({
      kind: 'reset',
      previous: 'consolidating',
      batch: { state: 'failed' },
    });
    expect(await store.lockHolder(KEY)).toBeNull();
    expect(await store.leaseHolder(DATE)).toBeNull();
  });
});
