/** Starts the local stack over a tiny world for component and end-to-end tests. */
import { pino } from 'pino';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../bin/local-stack.js';
import { createTinyWorld, type TinyWorld, type TinyWorldOptions } from './tiny-world.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { testClock } from './clock.js';
import { isClosed } from '../../shared/batch/batch-machine.js';

export const API_KEY = 'test-api-key-0123456789abcdef';

export const silentLogger = pino({ level: 'silent' });

export interface TestStack {
  world: TinyWorld;
  stack: LocalStack;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>;
  get(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface TestStackOptions extends Partial<Omit<LocalStackOptions, 'env'>> {
  wrapWarehouse?: (w: Warehouse) => Warehouse;
  /** Delivery attempts of the local bus before a dead letter (default: the config's). */
  maxDeliveryAttempts?: number;
  env?: Record<string, string>;
}

/** Starts the stack over a new tiny world, or over `world` when the test built it first (to wire something to its database). */
export async function startTestStack(worldOpts: TinyWorldOptions | TinyWorld, stackOpts: TestStackOptions = {}): Promise<TestStack> {
  const world = 'warehouse' in worldOpts ? worldOpts : await createTinyWorld(worldOpts);
  const { wrapWarehouse, maxDeliveryAttempts, env, ...rest } = stackOpts;
  const stack = await startLocalStack({
    // TEST_TODAY, whatever the wall clock says (a test passes its own clock to move time by hand).
    clock: testClock(),
    duckdb: world.warehouse,
    ...(wrapWarehouse ? { warehouse: wrapWarehouse(world.warehouse) } : {}),
    modelsDir: world.modelsDir,
    apiKey: API_KEY,
    logger: silentLogger,
    ...rest,
    env: {
      LOCAL_BUS_MIN_BACKOFF_MS: '5',
      LOCAL_BUS_MAX_BACKOFF_MS: '50',
      ...(maxDeliveryAttempts !== undefined ? { LOCAL_BUS_MAX_DELIVERY_ATTEMPTS: String(maxDeliveryAttempts) } : {}),
      ...env,
    },
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

/**
 * Resolves with the batch's `/status` once it has ended and is closed (its phase-5 message published and its run-history
 * row written). While waiting it reads the batch store in-process, by the rule `/status` reports as `closed`: polling
 * `/status` itself every 20 ms cost a 3-player batch ≈ 0.07 CPU-s of HTTP and rendering (≈ 20 %) and slowed the batch
 * it waited for. What a test asserts still comes from `/status`.
 */
export async function waitForBatchEnd(t: TestStack, batchId: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await t.stack.batches.getBatch(batchId);
    if (record && isClosed(record)) {
      await t.stack.bus.idle();
      return (await t.get(`/status?batch_id=${batchId}`)).body;
    }
    if (Date.now() > deadline) {
      throw new Error(`batch ${batchId} did not end: ${JSON.stringify((await t.get(`/status?batch_id=${batchId}`)).body)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once `check` holds, polling (bounded): for states a test reaches asynchronously. Throws naming `what` otherwise. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
