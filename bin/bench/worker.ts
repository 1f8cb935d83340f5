/**
 * `worker`: the worker's POST /predict under load over loopback with the 8 registered models.
 *
 * 1. The requests: one /start on the full local stack over the bench world; every prediction request it publishes is
 *    captured from the bus (as the worker receives it: the Pub/Sub push envelope).
 * 2. The worker alone: its own express app (createWorkerApp) on 127.0.0.1, composed like bin/local-stack.ts, with a local
 *    bus that has no subscribers (completions are published and kept, not pushed) and onnxruntime at 1 intra-op thread.
 *    The runtime is wrapped to time every session.run inside the worker.
 * 3. The load: N concurrent keep-alive fetch loops share a fixed request count (cycling over the captured envelopes), with
 *    a hard time cap; each request writes its staging rows into DuckDB, as in production. Event-loop delay is sampled with
 *    perf_hooks.monitorEventLoopDelay during the run (reported as lag beyond its 10 ms sampling interval). A second, shorter
 *    run at concurrency 1 separates contention from inference.
 * 4. Standalone onnxruntime for the same 8 models and batch size 1: the same vectors, one model after another, no HTTP.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LocalBus } from '../../shared/adapters/local-bus/local-bus.js';
import { buildEnvelope } from '../../shared/adapters/local-bus/push.js';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime.js';
import { FileModelStore } from '../../shared/adapters/file-model-store/file-model-store.js';
import type { FeatureValues } from '../../shared/contracts/feature-contract.js';
import { buildVector } from '../../shared/contracts/feature-vector.js';
import type { ModelRuntime, ModelSession } from '../../shared/ports/model-runtime.js';
import { buildWorkerApp, buildWorkerDeps } from '../../services/worker/wiring.js';
import { loadWorkerConfig } from '../../services/worker/config.js';
import { percentile, round, silentLogger, type BenchContext, type Benchmark } from './common.js';
import { benchOptions } from './options.js';
import { openWorld } from './world.js';
import { runStart, startBenchStack } from './stack.js';

const LOAD_CAP_MS = 120_000;
/** Per-request cap (a fresh signal per request: a shared one would collect a listener per fetch). */
const REQUEST_TIMEOUT_MS = 30_000;
/** monitorEventLoopDelay's sampling interval; an idle loop reports ≈ this, so lag = reported − interval. */
const LOOP_RESOLUTION_MS = 10;

/** Wraps a runtime so every session.run is timed (ms per call, batch size noted). */
class TimingRuntime implements ModelRuntime {
  readonly samples: number[] = [];
  recording = false;
  constructor(private readonly inner: ModelRuntime) {}
  async load(onnx: Uint8Array): Promise<ModelSession> {
    const session = await this.inner.load(onnx);
    return {
      featureNames: session.featureNames,
      metadata: session.metadata,
      inputWidth: session.inputWidth,
      run: async (features: Float32Array, rows: number): Promise<Float32Array> => {
        const t0 = performance.now();
        const out = await session.run(features, rows);
        if (this.recording) this.samples.push(performance.now() - t0);
        return out;
      },
      close: () => session.close(),
    };
  }
}

interface Captured {
  body: string;
  features: FeatureValues | undefined;
}

async function captureRequests(ctx: BenchContext): Promise<{ requests: Captured[]; gameDate: string }> {
  const world = await openWorld(ctx.worldDir, 0, ctx.log);
  const stack = await startBenchStack(world);
  const requests: Captured[] = [];
  const off = stack.bus.onPublish(stack.topics.request, (m) => {
    const envelope = buildEnvelope(
      { messageId: m.messageId, attributes: m.attributes, publishTime: m.publishTime, data64: Buffer.from(JSON.stringify(m.data)).toString('base64') },
      'projects/local/subscriptions/bench-load',
      1,
    );
    requests.push({ body: JSON.stringify(envelope), features: (m.data as { features?: FeatureValues }).features });
  });
  try {
    await runStart(stack, world, 120_000);
  } finally {
    off();
    await stack.close();
    await world.warehouse.close();
  }
  return { requests, gameDate: world.gameDate };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

export const workerBenchmark: Benchmark = {
  name: 'worker',
  description: "the worker's /predict under load over loopback, 8 models",
  async run(ctx: BenchContext) {
    const { requests: total, concurrency } = benchOptions();
    const { requests } = await captureRequests(ctx);
    if (requests.length === 0) throw new Error('no prediction requests were published to capture');
    ctx.log(`worker: captured ${requests.length} prediction requests`);

    const world = await openWorld(ctx.worldDir, 0, ctx.log);
    const timing = new TimingRuntime(new OnnxModelRuntime({ intraOpNumThreads: 1 }));
    const bus = new LocalBus();
    const runtime = await buildWorkerDeps(loadWorkerConfig({ LOG_LEVEL: 'silent', MODEL_STORE_ROOT: world.modelsDir }), {
      logger: silentLogger,
      warehouse: world.warehouse,
      bus,
      batchReader: { getBatch: async () => null },
      runtime: timing,
    });
    const { models } = runtime.deps;
    if (models.refused.length > 0) throw new Error(`models refused: ${JSON.stringify(models.refused)}`);
    const server = createServer(buildWorkerApp(runtime, { accessLog: false }));
    const url = `${await listen(server)}/predict`;

    try {
      const abort = new AbortController();
      // fetch (undici) keeps connections alive by default: each loop reuses its socket.
      const post = async (i: number): Promise<number> => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: requests[i % requests.length]!.body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        await res.arrayBuffer();
        return res.status;
      };
      // Warm-up: one pass of 50 requests.
      for (let i = 0; i < Math.min(50, requests.length); i++) await post(i);

      const load = async (count: number, loops: number) => {
        const latencies: number[] = [];
        const statuses = new Map<number, number>();
        let next = 0;
        let errors = 0;
        const cap = setTimeout(() => abort.abort(), LOAD_CAP_MS);
        const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
        timing.samples.length = 0;
        timing.recording = true;
        loop.enable();
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: loops }, async () => {
            while (!abort.signal.aborted) {
              const i = next++;
              if (i >= count) return;
              const s = performance.now();
              try {
                const status = await post(i);
                statuses.set(status, (statuses.get(status) ?? 0) + 1);
                latencies.push(performance.now() - s);
              } catch {
                errors++;
              }
            }
          }),
        );
        const wallMs = performance.now() - t0;
        loop.disable();
        timing.recording = false;
        clearTimeout(cap);
        ctx.log(`worker: ${latencies.length} requests at concurrency ${loops} in ${(wallMs / 1000).toFixed(1)} s (statuses ${JSON.stringify(Object.fromEntries(statuses))}, errors ${errors}${abort.signal.aborted ? ', hit the time cap' : ''})`);
        return { latencies, statuses, errors, wallMs, loop, inWorker: [...timing.samples], capped: abort.signal.aborted };
      };
      const runs = [await load(total, concurrency)];
      // Diagnostic: the same worker one request at a time (a shorter run), to separate contention from inference.
      if (concurrency > 1) runs.push(await load(Math.min(300, total), 1));

      // Standalone onnxruntime: the same 8 models, batch 1, the same vectors, one model after another.
      const standaloneRuntime = new OnnxModelRuntime({ intraOpNumThreads: 1 });
      const store = new FileModelStore(world.modelsDir);
      const standalone = await Promise.all(models.loaded.map(async (m) => ({ family: m.family, width: m.width, session: await standaloneRuntime.load(await store.fetch(m.fileName)) })));
      const vectors = requests.filter((r) => r.features !== undefined).slice(0, 200);
      const calls: number[] = [];
      const coldCalls: number[] = [];
      try {
        const runAll = async (record: boolean) => {
          for (const r of vectors) {
            for (const m of standalone) {
              const input = new Float32Array(m.width);
              buildVector(m.family, r.features!, input);
              const s = performance.now();
              await m.session.run(input, 1);
              if (record) calls.push(performance.now() - s);
            }
          }
        };
        await runAll(false);
        const deadline = performance.now() + 3_000;
        while (calls.length < (runs[0]?.inWorker.length ?? 0) && performance.now() < deadline) await runAll(true);
        // Diagnostic: the same calls with the process idle for 1 ms before each one, as the worker is between requests;
        // the onnxruntime thread and the event loop then have to be woken for every call.
        for (const r of vectors.slice(0, 40)) {
          for (const m of standalone) {
            const input = new Float32Array(m.width);
            buildVector(m.family, r.features!, input);
            await new Promise((res) => setTimeout(res, 1));
            const s = performance.now();
            await m.session.run(input, 1);
            coldCalls.push(performance.now() - s);
          }
        }
      } finally {
        for (const m of standalone) await m.session.close();
      }

      const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const standaloneMeanUs = mean(calls) * 1000;
      for (const r of runs) {
        const completed = r.latencies.length;
        const lag = (ns: number) => round(Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS), 1);
        const workerMeanUs = mean(r.inWorker) * 1000;
        ctx.emit({
          name: 'worker',
          models: models.loaded.length,
          concurrency: r === runs[0] ? concurrency : 1,
          requests: completed,
          non_2xx: completed - (r.statuses.get(204) ?? 0) - (r.statuses.get(200) ?? 0),
          errors: r.errors,
          hit_time_cap: r.capped,
          wall_s: round(r.wallMs / 1000, 2),
          requests_per_s: round(completed / (r.wallMs / 1000), 0),
          p50_ms: round(percentile(r.latencies, 50), 1),
          p99_ms: round(percentile(r.latencies, 99), 1),
          max_ms: round(Math.max(...r.latencies), 1),
          loop_lag_p50_ms: lag(r.loop.percentile(50)),
          loop_lag_p99_ms: lag(r.loop.percentile(99)),
          loop_lag_max_ms: lag(r.loop.max),
          worker_run_us_mean: round(workerMeanUs, 0),
          worker_run_us_p99: round(percentile(r.inWorker, 99) * 1000, 0),
          standalone_run_us_mean: round(standaloneMeanUs, 0),
          standalone_run_us_p99: round(percentile(calls, 99) * 1000, 0),
          standalone_after_idle_run_us_mean: round(mean(coldCalls) * 1000, 0),
          inference_ratio: round(workerMeanUs / standaloneMeanUs, 2),
          worker_model_rows_per_s: round((completed * models.loaded.length) / (r.wallMs / 1000), 0),
          standalone_model_rows_per_s: round(1e6 / standaloneMeanUs, 0),
        });
      }
    } finally {
      await new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
      await bus.close();
      await models.close();
      await world.warehouse.close();
    }
  },
};
