/** The local stack over the bench world, and one timed /start → 202 → phase-5 run on it. */
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../local-stack.js';
import { resetDate, type BenchWorld } from './world.js';
import { silentLogger, withTimeout } from './common.js';
import { benchOptions } from './options.js';

export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef';

type Json = Record<string, unknown>;

/** The local stack over the bench world; `env` as the services' environment (e.g. PLAYERS_PER_MESSAGE), `warehouse` what they query through. */
export async function startBenchStack(world: BenchWorld, extra: Pick<LocalStackOptions, 'env' | 'warehouse'> = {}): Promise<LocalStack> {
  // --service-env first, so a benchmark's own setting (chunks' K) wins.
  const env = { ...benchOptions().serviceEnv, ...extra.env };
  return startLocalStack({
    duckdb: world.warehouse,
    modelsDir: world.modelsDir,
    apiKey: BENCH_API_KEY,
    logger: silentLogger,
    ...extra,
    env,
  });
}

export interface StartRun {
  /** POST /start until its 202 answer (body read). */
  startMs: number;
  /** POST /start until the phase-5 message was published. */
  phase5Ms: number;
  queries: number;
  candidates: number;
  published: number;
  phaseMs: Json;
  message: Json;
  /** The prediction request messages the batch published (their data, as the worker decodes it). */
  requests: Json[];
  /** The worker's span: first request published → last completion event published (ms). */
  workerSpanMs: number;
}

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' ? (v as Json) : {});

/** Resets the date, POSTs /start, waits for the phase-5 message and for the bus to drain. */
export async function runStart(
  stack: LocalStack,
  world: BenchWorld,
  capMs: number,
  extraBody: Record<string, unknown> = {},
): Promise<StartRun> {
  await resetDate(world.warehouse, world.gameDate);
  let phase5At = 0;
  let firstRequestAt = 0;
  let lastCompletionAt = 0;
  const requests: Json[] = [];
  const offs: Array<() => void> = [
    stack.bus.onPublish(stack.topics.request, (m) => {
      if (requests.length === 0) firstRequestAt = performance.now();
      requests.push(obj(m.data));
    }),
    stack.bus.onPublish(stack.topics.ready, () => {
      lastCompletionAt = performance.now();
    }),
  ];
  const phase5 = new Promise<Json>((resolve) => {
    offs.push(
      stack.bus.onPublish(stack.topics.phase5, (m) => {
        phase5At = performance.now();
        resolve(obj(m.data));
      }),
    );
  });
  try {
    const t0 = performance.now();
    const res = await fetch(`${stack.coordinatorUrl}/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': BENCH_API_KEY },
      body: JSON.stringify({ ...extraBody, game_date: world.gameDate }),
    });
    const body = obj(await res.json());
    const startMs = performance.now() - t0;
    if (res.status !== 202) throw new Error(`/start answered ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
    const summary = obj(body.summary);
    const message = await withTimeout('phase-5 message', capMs, phase5);
    await stack.bus.idle(capMs);
    return {
      startMs,
      phase5Ms: phase5At - t0,
      queries: Number(summary.warehouse_queries),
      candidates: Number(summary.candidates),
      published: Number(body.published),
      phaseMs: obj(summary.phase_ms),
      message,
      requests,
      workerSpanMs: lastCompletionAt - firstRequestAt,
    };
  } finally {
    for (const off of offs) off();
  }
}
