/** Starts the local stack over a tiny world for component and end-to-end tests. */
import { pino } from 'pino';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../bin/local-stack.js';
import { createTinyWorld, type TinyWorld, type TinyWorldOptions } from './tiny-world.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';

export const API_KEY = 'test-api-key-0123456789abcdef';

export const silentLogger = pino({ level: 'silent' });

export interface TestStack {
  world: TinyWorld;
  stack: LocalStack;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  get(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startTestStack(
  worldOpts: TinyWorldOptions,
  stackOpts: Partial<LocalStackOptions> & { wrapWarehouse?: (w: Warehouse) => Warehouse } = {},
): Promise<TestStack> {
  const world = await createTinyWorld(worldOpts);
  const warehouse = stackOpts.wrapWarehouse ? stackOpts.wrapWarehouse(world.warehouse) : world.warehouse;
  const stack = await startLocalStack({
    warehouse,
    modelsDir: world.modelsDir,
    apiKey: API_KEY,
    logger: silentLogger,
    minBackoffMs: 5,
    maxBackoffMs: 50,
    ...stackOpts,
  });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${stack.coordinatorUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  return {
    world,
    stack,
    post: (path, body, headers) => call('POST', path, body, headers),
    get: (path) => call('GET', path),
    async close() {
      await stack.close();
      await world.warehouse.close();
    },
  };
}

/** Resolves when the batch reaches an ended state (complete, partial, failed). */
export async function waitForBatchEnd(t: TestStack, batchId: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await t.get(`/status?batch_id=${batchId}`);
    if (['complete', 'partial', 'failed'].includes(String(body.status)) && body.consolidation && (body.consolidation as Record<string, unknown>).phase5_message_id !== undefined) {
      await t.stack.bus.idle();
      return (await t.get(`/status?batch_id=${batchId}`)).body;
    }
    if (Date.now() > deadline) throw new Error(`batch ${batchId} did not end: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
