/** A worker built by its one builder (services/worker/wiring.ts) and served on a loopback port, for component tests. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadWorkerConfig } from '../../services/worker/config.js';
import { buildWorkerApp, buildWorkerDeps, type WorkerOverrides, type WorkerRuntime } from '../../services/worker/wiring.js';
import type { BatchRecord } from '../../shared/batch/batch-record.js';
import { silentLogger } from './stack.js';
import { testClock } from './clock.js';

export interface TestWorker {
  url: string;
  runtime: WorkerRuntime;
  push(body: unknown): Promise<number>;
  close(): Promise<void>;
}

/** Batches the worker sees as running unless a test says otherwise. */
export const knownBatches = (states: Record<string, BatchRecord['state']> = {}) => ({
  getBatch: async (id: string) => (states[id] ? ({ batch_id: id, state: states[id] } as BatchRecord) : null),
});

export async function startTestWorker(
  modelsDir: string,
  overrides: WorkerOverrides & Required<Pick<WorkerOverrides, 'warehouse' | 'bus'>>,
  env: Record<string, string> = {},
): Promise<TestWorker> {
  const runtime = await buildWorkerDeps(loadWorkerConfig({ LOG_LEVEL: 'silent', MODEL_STORE_ROOT: modelsDir, ...env }), {
    logger: silentLogger,
    clock: testClock(),
    batchReader: knownBatches(),
    ...overrides,
  });
  const server = createServer(buildWorkerApp(runtime, { accessLog: false }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    runtime,
    async push(body) {
      const res = await fetch(`${url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      await res.arrayBuffer();
      return res.status;
    },
    async close() {
      await new Promise((r) => server.close(r));
      await runtime.close();
    },
  };
}

/** A Pub/Sub push envelope around `data`. */
export const envelope = (data: unknown, messageId = '1') => ({
  message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId, publishTime: '2026-11-22T12:00:00.000Z' },
  subscription: 'projects/local/subscriptions/test',
});
