/**
 * `profile`: a V8 CPU profile of warm batches (the bench world's slate, 276–295 published players × 8 models, both services
 * in this process as on the embedded default). The stack runs one cold and one warm batch unprofiled, then the profiler
 * (the same V8 sampler `node --cpu-prof` uses, started through node:inspector so only the warm batches are in it) records
 * `--runs` warm batches. The profile is written as `warm-batch.cpuprofile` under `--cpu-prof-dir` (default: the world
 * directory) and summarised with bin/bench/cpu-profile.ts: the main thread's busy share, then the top frames by self time
 * (function and file, % of busy time), and the inclusive time of the project's own steps. Read it again with
 * `node dist/bin/bench/cpu-profile.js FILE`, or open it in Chrome DevTools.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { round, type BenchContext, type Benchmark } from './common.js';
import { summarise, type CpuProfile } from './cpu-profile.js';
import { benchOptions } from './options.js';
import { openWorld } from './world.js';
import { runStart, startBenchStack } from './stack.js';

/** Sampling interval (µs): finer than --cpu-prof's 1 000 µs default, since a warm batch lasts a few seconds. */
const SAMPLING_US = 250;
const TOP = 12;

/** Project steps whose inclusive time is reported (substrings of the profile's function keys). */
const STEPS: ReadonlyArray<readonly [string, string]> = [
  ['worker: predict a message', 'predict-message.js'],
  // onnxruntime-node runs the native inference inside a setImmediate (dist/backend.js): its frames sit under
  // processImmediate, not under the caller, so the package is matched, not the project's runtime adapter.
  ['onnxruntime (inference, on the main thread)', 'npm:onnxruntime-node'],
  ['DuckDB adapter (every query/append)', 'duckdb-warehouse.js'],
  ['local bus (publish, push, ack; its DuckDB store)', 'local-bus/'],
  ['HTTP pushes (fetch: undici)', 'undici'],
  ['coordinator (its own JavaScript)', 'services/coordinator/'],
  ['local batch store', 'local-batch-store'],
  ['zod parsing', 'npm:zod'],
  ['express / HTTP', 'npm:express'],
];

export const profileBenchmark: Benchmark = {
  name: 'profile',
  description: 'CPU profile of warm batches (276 players × 8 models): top self-time frames and the project steps, % of busy time',
  async run(ctx: BenchContext) {
    const runs = benchOptions().runs;
    const dir = benchOptions().cpuProfDir ?? ctx.worldDir;
    const world = await openWorld(ctx.worldDir, 0, ctx.log);
    const stack = await startBenchStack(world);
    const session = new Session();
    session.connect();
    try {
      await runStart(stack, world, 180_000); // cold
      await runStart(stack, world, 180_000); // warm, unprofiled
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_US });
      await session.post('Profiler.start');
      const batchMs: number[] = [];
      for (let i = 0; i < runs; i++) batchMs.push((await runStart(stack, world, 180_000)).phase5Ms);
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'warm-batch.cpuprofile');
      writeFileSync(file, JSON.stringify(profile));
      ctx.log(`profile: ${runs} warm batch(es) ${batchMs.map((m) => m.toFixed(0)).join(' ')} ms; written to ${file}`);

      const s = summarise(
        profile,
        undefined,
        STEPS.map(([, match]) => match),
      );
      const busy = s.totalMs - s.idleMs;
      const pct = (ms: number) => round((100 * ms) / busy, 1);
      ctx.emit({
        name: 'profile',
        kind: 'main thread',
        frame: `${runs} warm batch(es), ${batchMs.map((m) => round(m, 0)).join(' ')} ms; ${file}`,
        self_ms: round(busy, 0),
        self_pct: round((100 * busy) / s.totalMs, 1),
        incl_pct: null,
      });
      const top = (m: Map<string, { self: number; total: number }>, kind: string) => {
        for (const [k, v] of [...m.entries()].sort((a, b) => b[1].self - a[1].self).slice(0, TOP)) {
          ctx.emit({ name: 'profile', kind, frame: k, self_ms: round(v.self, 0), self_pct: pct(v.self), incl_pct: pct(v.total) });
        }
      };
      top(s.byFunction, 'function, self');
      top(s.byFile, 'file, self');
      for (const [label, match] of STEPS) {
        const incl = s.byGroup.get(match) ?? 0;
        ctx.emit({ name: 'profile', kind: 'step, inclusive', frame: label, self_ms: null, self_pct: null, incl_pct: pct(incl) });
      }
    } finally {
      session.disconnect();
      await stack.close();
      await world.warehouse.close();
    }
  },
};
