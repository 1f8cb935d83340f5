/**
 * `GET /health/deep` on both services (issue 19): every dependency checked for real, 200 when all answer, 503 naming the
 * dependency that is stopped or failing — the bus closed, the warehouse failing or hanging, the batch store down, the champion's
 * artefact gone from the model store.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { WarehouseError, type Warehouse } from '../../shared/ports/warehouse.js';
import { overrideWarehouse } from '../helpers/warehouse-faults.js';
import { BatchStoreError } from '../../shared/ports/batch-store.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
let t: TestStack | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function deep(
  url: string,
): Promise<{ status: number; body: { status: string; failed: string[]; checks: Record<string, { ok: boolean; error?: string }> } }> {
  const res = await fetch(`${url}/health/deep`);
  return { status: res.status, body: (await res.json()) as never };
}

describe('GET /health/deep', () => {
  it('answers 200 with every check on both services; with the bus stopped, 503 naming the bus', async () => {
    t = await startTestStack({ gameDate: today, players: 3, models: 2 });
    const c = await deep(t.stack.coordinatorUrl);
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ status: 'healthy', service: 'prediction-coordinator', failed: [] });
    expect(Object.keys(c.body.checks).sort()).toEqual(['batch_store', 'bus', 'warehouse']);
    expect(c.body.checks.warehouse).toMatchObject({ ok: true, detail: { enabled_models: 2, champions: 1 } });
    const w = await deep(t.stack.workerUrl);
    expect(w.status).toBe(200);
    expect(Object.keys(w.body.checks).sort()).toEqual(['batch_store', 'bus', 'model_store', 'models', 'warehouse']);
    expect(w.body.checks.models).toMatchObject({ ok: true, detail: { loaded: 2, refused: 0, champion: 'catboost_v9_tiny' } });
    // The probes leave nothing behind in the batch store.
    expect(await t.stack.batches.listEvents('health', new Date(0).toISOString())).toEqual([]);

    await t.stack.bus.close();
    for (const url of [t.stack.coordinatorUrl, t.stack.workerUrl]) {
      const down = await deep(url);
      expect(down.status, url).toBe(503);
      expect(down.body).toMatchObject({ status: 'unhealthy', failed: ['bus'] });
      expect(down.body.checks.bus?.error).toMatch(/bus closed/);
    }
  });

  it('a failing warehouse is named on both services; a hanging one fails its check within the time limit', async () => {
    let mode: 'up' | 'failing' | 'hanging' = 'up';
    const flaky = (inner: Warehouse): Warehouse =>
      overrideWarehouse(inner, {
        query: (q) => {
          if (q.name !== 'health.registry' || mode === 'up') return inner.query(q);
          if (mode === 'hanging') return new Promise(() => undefined);
          return Promise.reject(new WarehouseError(q.name, 'backendError: BigQuery is unavailable', 'QUERY_FAILED', { retryable: true }));
        },
      });
    t = await startTestStack({ gameDate: today, players: 3 }, { wrapWarehouse: flaky, env: { HEALTH_CHECK_TIMEOUT_SECONDS: '1' } });
    mode = 'failing';
    for (const url of [t.stack.coordinatorUrl, t.stack.workerUrl]) {
      const down = await deep(url);
      expect(down.status).toBe(503);
      expect(down.body.failed).toEqual(['warehouse']);
      expect(down.body.checks.warehouse?.error).toMatch(/BigQuery is unavailable/);
    }
    mode = 'hanging';
    const hung = await deep(t.stack.coordinatorUrl);
    expect(hung.status).toBe(503);
    expect(hung.body.checks.warehouse?.error).toMatch(/no answer within 1000 ms/);
    mode = 'up';
    expect((await deep(t.stack.coordinatorUrl)).status).toBe(200);
  });

  it('a batch store that is down is named on both services', async () => {
    t = await startTestStack({ gameDate: today, players: 3 });
    // Both services' handles on the store start failing as an unreachable Firestore would.
    const unreachable = <T extends object>(store: T): T =>
      new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (typeof value !== 'function') return value;
          return () => Promise.reject(new BatchStoreError(String(prop), 'UNAVAILABLE: Firestore is unreachable', { retryable: true }));
        },
      });
    t.stack.coordinator.batches = unreachable(t.stack.coordinator.batches);
    t.stack.worker.batchReader = unreachable(t.stack.worker.batchReader);
    for (const url of [t.stack.coordinatorUrl, t.stack.workerUrl]) {
      const res = await deep(url);
      expect(res.status).toBe(503);
      expect(res.body.failed).toEqual(['batch_store']);
      expect(res.body.checks.batch_store?.error).toMatch(/Firestore is unreachable/);
    }
  });

  it("the champion's artefact gone from the model store is named by the worker", async () => {
    t = await startTestStack({ gameDate: today, players: 3, models: 2 });
    rmSync(join(t.world.modelsDir, 'catboost_v9_tiny.onnx'));
    const w = await deep(t.stack.workerUrl);
    expect(w.status).toBe(503);
    expect(w.body.failed).toEqual(['model_store']);
    expect(w.body.checks.model_store?.error).toMatch(/catboost_v9_tiny\.onnx/);
    expect((await deep(t.stack.coordinatorUrl)).status).toBe(200);
  });
});
