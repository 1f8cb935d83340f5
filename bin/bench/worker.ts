/**
 * `worker`: the worker's POST /predict with messages of K players (K = 1, 2, 4, 8, 16, 32, 64), 8 models, over loopback.
 *
 * 1. The players: one /start on the full local stack over the bench world; every published player is taken from the
 *    prediction requests it publishes (as the worker decodes them).
 * 2. The worker alone: its own express app (buildWorkerApp) on 127.0.0.1, composed like bin/local-stack.ts, with a local
 *    bus that has no subscribers (completions are published and kept, not pushed) and onnxruntime at 1 intra-op thread.
 *    Every message writes its staging rows into DuckDB, as in production. The runtime is wrapped to time every
 *    session.run inside the worker.
 * 3. Per K, the players are cut into messages of K (the last one shorter) and POSTed one after another as push envelopes,
 *    `--runs` passes (at most 3) over all of them (after one warm-up pass at K = 16): the time per message is POST → answer.
 * 4. The marginal cost per player is the slope of the least-squares line through (players in the message, ms) over every
 *    timed message of every K; its intercept is the fixed cost of a message. The same fit for the process's CPU time per
 *    message (every thread of this process: the worker, DuckDB's and onnxruntime's threads, and the sending fetch). Per K also: players/s when `--concurrency`
 *    messages are in flight at once (one pass), and session.run inside the worker against the same call standalone (the
 *    same 8 sessions, the same rows, no HTTP).
 */
import type { Server } from 'node:http';
import { createDrainableServer } from '../../shared/http/drainable-server.js';
import type { AddressInfo } from 'node:net';
import { LocalBus } from '../../shared/adapters/local-bus/local-bus.js';
import { buildEnvelope } from '../../shared/adapters/local-bus/push.js';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime.js';
import { buildVector } from '../../shared/contracts/feature-vector.js';
import type { PlayerRequest } from '../../shared/contracts/messages.js';
import type { ModelRuntime, ModelSession } from '../../shared/ports/model-runtime.js';
import { buildWorkerApp, buildWorkerDeps } from '../../services/worker/wiring.js';
import { loadWorkerConfig } from '../../services/worker/config.js';
import { median, round, silentLogger, timed, type BenchContext, type Benchmark } from './common.js';
import { benchOptions } from './options.js';
import { openWorld } from './world.js';
import { runStart, startBenchStack } from './stack.js';
import { publishedPlayers } from './batch.js';
import { CHUNK_SIZES } from './chunks.js';

/** Per-request cap (a fresh signal per request). */
const REQUEST_TIMEOUT_MS = 30_000;

/** Wraps a runtime so every session.run is timed while `recording`. */
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
  head: Record<string, unknown>;
  players: PlayerRequest[];
}

/** The published players of one /start on the bench world, and the message fields they came with. */
async function capturePlayers(ctx: BenchContext): Promise<Captured> {
  const world = await openWorld(ctx.worldDir, 0, ctx.log);
  const stack = await startBenchStack(world);
  try {
    const r = await runStart(stack, world, 120_000);
    const { players: _players, ...head } = r.requests[0] ?? {};
    return { head, players: publishedPlayers(r) };
  } finally {
    await stack.close();
    await world.warehouse.close();
  }
}

/** Push envelopes of `k` players each (the last shorter), as JSON bodies. */
function envelopes(c: Captured, k: number): Array<{ body: string; players: number }> {
  const out: Array<{ body: string; players: number }> = [];
  for (let i = 0; i < c.players.length; i += k) {
    const players = c.players.slice(i, i + k);
    const data64 = Buffer.from(JSON.stringify({ ...c.head, players })).toString('base64');
    const envelope = buildEnvelope(
      { messageId: String(i), attributes: {}, publishTime: new Date().toISOString(), data64 },
      'projects/local/subscriptions/bench-worker',
      1,
    );
    out.push({ body: JSON.stringify(envelope), players: players.length });
  }
  return out;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

/** Least-squares line y = a + b·x. */
function fitLine(points: ReadonlyArray<readonly [number, number]>): { intercept: number; slope: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope };
}

export const workerBenchmark: Benchmark = {
  name: 'worker',
  description: "the worker's /predict per message of K players (8 models): ms per message, marginal ms per player, players/s",
  capMs: 600_000,
  async run(ctx: BenchContext) {
    const { concurrency } = benchOptions();
    // At most 3 passes over every K (7 sizes × 276 players each): the suite stays within a few minutes.
    const runs = Math.min(benchOptions().runs, 3);
    const captured = await capturePlayers(ctx);
    if (captured.players.length === 0) throw new Error('no published players to send');
    ctx.log(`worker: ${captured.players.length} published players captured`);

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
    const drainable = createDrainableServer(buildWorkerApp(runtime, { accessLog: false }));
    const url = `${await listen(drainable.server)}/predict`;
    const post = async (body: string): Promise<void> => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (res.status !== 204 && res.status !== 200) throw new Error(`/predict answered ${res.status}`);
    };

    try {
      for (const e of envelopes(captured, 16)) await post(e.body); // warm-up pass
      const points: Array<[number, number]> = [];
      const cpuPoints: Array<[number, number]> = [];
      const perK = new Map<number, { ms: number[]; cpuMs: number[]; runUs: number[]; throughput: number }>();
      for (let pass = 0; pass < runs; pass++) {
        for (const k of CHUNK_SIZES) {
          const entry = perK.get(k) ?? { ms: [], cpuMs: [], runUs: [], throughput: 0 };
          timing.samples.length = 0;
          timing.recording = true;
          for (const e of envelopes(captured, k)) {
            const cpu0 = process.cpuUsage();
            const { ms } = await timed(() => post(e.body));
            const cpu = process.cpuUsage(cpu0);
            const cpuMs = (cpu.user + cpu.system) / 1000;
            points.push([e.players, ms]);
            cpuPoints.push([e.players, cpuMs]);
            if (e.players === k) {
              entry.ms.push(ms);
              entry.cpuMs.push(cpuMs);
            }
          }
          timing.recording = false;
          entry.runUs.push(...timing.samples.map((s) => s * 1000));
          perK.set(k, entry);
        }
      }
      // Players/s with `concurrency` messages in flight (one pass per K).
      for (const k of CHUNK_SIZES) {
        const list = envelopes(captured, k);
        let next = 0;
        const { ms } = await timed(() =>
          Promise.all(
            Array.from({ length: Math.min(concurrency, list.length) }, async () => {
              for (let i = next++; i < list.length; i = next++) await post((list[i] as { body: string }).body);
            }),
          ),
        );
        (perK.get(k) as { throughput: number }).throughput = captured.players.length / (ms / 1000);
      }

      // Standalone: the worker's own sessions on the same rows, one call per model, no HTTP.
      const standaloneUs = async (k: number): Promise<number> => {
        const rows = captured.players.slice(0, k);
        const calls: number[] = [];
        for (let rep = 0; rep < 20; rep++) {
          for (const m of models.loaded) {
            const input = new Float32Array(rows.length * m.width);
            rows.forEach((p, i) => buildVector(m.family, p.features ?? {}, input, i * m.width));
            calls.push((await timed(() => m.session.run(input, rows.length))).ms * 1000);
          }
        }
        return median(calls);
      };

      const line = fitLine(points);
      const cpuLine = fitLine(cpuPoints);
      for (const k of CHUNK_SIZES) {
        const e = perK.get(k) as { ms: number[]; cpuMs: number[]; runUs: number[]; throughput: number };
        const inWorker = median(e.runUs);
        const alone = await standaloneUs(k);
        ctx.emit({
          name: 'worker',
          k,
          models: models.loaded.length,
          messages_timed: e.ms.length,
          ms_per_message_p50: round(median(e.ms), 1),
          ms_per_player: round(median(e.ms) / k, 2),
          cpu_ms_per_message_p50: round(median(e.cpuMs), 1),
          players_per_s_at_concurrency: round(e.throughput, 0),
          concurrency,
          session_run_us_in_worker_p50: round(inWorker, 0),
          session_run_us_standalone_p50: round(alone, 0),
          in_worker_vs_standalone: round(inWorker / alone, 2),
        });
      }
      ctx.emit({
        name: 'worker',
        k: 'fit',
        messages_timed: points.length,
        marginal_ms_per_player: round(line.slope, 2),
        fixed_ms_per_message: round(line.intercept, 1),
        marginal_cpu_ms_per_player: round(cpuLine.slope, 2),
        fixed_cpu_ms_per_message: round(cpuLine.intercept, 1),
      });
    } finally {
      // Requests still in flight (a section that threw mid-load) finish before the clients below are closed.
      await drainable.close(10_000);
      await bus.close();
      await runtime.close();
      await world.warehouse.close();
    }
  },
};
