/**
 * The product on "BigQuery": the local stack (coordinator + worker, embedded bus and batch store) whose warehouse is the real
 * BigQueryWarehouse talking to the fake BigQuery in engine mode (test/helpers/fake-bigquery.ts), which runs the jobs on the
 * tiny world's DuckDB database. The worker streams staging rows with insertAll; the coordinator's queries, verify and
 * merge transaction are BigQuery jobs — so the fake's streaming buffer, transaction conflicts and warnings reach the product
 * exactly as BigQuery's would.
 */
import { BigQueryWarehouse } from '../../shared/adapters/bigquery/bigquery-warehouse.js';
import { LocalBatchStore } from '../../shared/adapters/local-batch-store/local-batch-store.js';
import type { Clock } from '../../shared/ports/clock.js';
import { testClock } from './clock.js';
import type { BatchStore } from '../../shared/ports/batch-store.js';
import { FakeBigQuery, staticTokenAuth } from './fake-bigquery.js';
import { startTestStack, type TestStack, type TestStackOptions } from './stack.js';
import { createTinyWorld, type TinyWorldOptions } from './tiny-world.js';

export const FAKE_PROJECT = 'nba-fake-proj';

export interface FakeBigQueryStack extends TestStack {
  fake: FakeBigQuery;
  bigquery: BigQueryWarehouse;
}

export interface FakeBigQueryStackOptions extends Omit<TestStackOptions, 'warehouse' | 'wrapWarehouse' | 'batchStore'> {
  /** Wraps the embedded batch store (a test watching or bypassing the merge lock). */
  wrapBatchStore?: (store: BatchStore) => BatchStore;
}

export async function startStackOnFakeBigQuery(
  worldOpts: TinyWorldOptions,
  opts: FakeBigQueryStackOptions = {},
): Promise<FakeBigQueryStack> {
  const { wrapBatchStore, ...stackOpts } = opts;
  const world = await createTinyWorld(worldOpts);
  const fake = await FakeBigQuery.start({ engine: world.warehouse });
  const bigquery = new BigQueryWarehouse({
    projectId: FAKE_PROJECT,
    location: 'US',
    apiEndpoint: fake.url,
    authClient: staticTokenAuth(),
    jobTimeoutMs: 60_000,
    timeoutMs: 30_000,
    maximumBytesBilled: null,
    labels: { service: 'test' },
    // The adapter's own attempts (3, as in production a few): short delays so a test never waits on them.
    retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
  });
  const clock: Clock = stackOpts.clock ?? testClock();
  const batchStore = wrapBatchStore ? wrapBatchStore(await LocalBatchStore.open(world.warehouse.db, clock)) : undefined;
  const t = await startTestStack(world, { ...stackOpts, warehouse: bigquery, ...(batchStore ? { batchStore } : {}) });
  return {
    ...t,
    fake,
    bigquery,
    async close() {
      await t.stack.close();
      await bigquery.close();
      await fake.close();
      await world.warehouse.close();
    },
  };
}
