/**
 * `chunks`: players per prediction request message (PLAYERS_PER_MESSAGE = K) against a warm batch of the bench world's slate
 * (276 players × 8 models), K = 1, 2, 4, 8, 16, 32, 64 side by side in one process: each round (`--runs`, at most 2) starts a stack per K (in
 * turn), runs one batch to warm it and one measured batch, and closes it. Per K: the batch's wall time (POST /start →
 * phase-5 message), the worker's span (first request published → last completion event published), the process's CPU
 * time during the batch (every thread: the event loop, DuckDB's, onnxruntime's), and the size of the largest request
 * message in bytes (its JSON, as published: Pub/Sub's limit is 10 MB).
 */
import { median, round, type BenchContext, type Benchmark } from './common.js';
import { benchOptions } from './options.js';
import { openWorld } from './world.js';
import { runStart, startBenchStack, type StartRun } from './stack.js';
import { MAX_PLAYERS_PER_MESSAGE } from '../../shared/contracts/messages.js';

export const CHUNK_SIZES: readonly number[] = [1, 2, 4, 8, 16, 32, 64];
const PUBSUB_LIMIT_BYTES = 10 * 1024 * 1024;

interface Sample {
  batchMs: number;
  workerMs: number;
  cpuMs: number;
  messages: number;
  maxBytes: number;
  maxPlayers: number;
  status: string;
}

const messageBytes = (r: StartRun): number[] => r.requests.map((m) => Buffer.byteLength(JSON.stringify(m)));

export const chunksBenchmark: Benchmark = {
  name: 'chunks',
  description: 'warm batch wall time and worker span for K = 1…64 players per message, side by side; message bytes',
  capMs: 900_000,
  async run(ctx: BenchContext) {
    const world = await openWorld(ctx.worldDir, 0, ctx.log);
    // At most 2 rounds (7 stacks × 2 batches each per round): the suite stays within a few minutes.
    const rounds = Math.min(benchOptions().runs, 2);
    const samples = new Map<number, Sample[]>(CHUNK_SIZES.map((k) => [k, []]));
    try {
      for (let i = 1; i <= rounds; i++) {
        for (const k of CHUNK_SIZES) {
          const stack = await startBenchStack(world, { env: { PLAYERS_PER_MESSAGE: String(k) } });
          try {
            await runStart(stack, world, 180_000);
            const cpu0 = process.cpuUsage();
            const r = await runStart(stack, world, 180_000);
            const cpu = process.cpuUsage(cpu0);
            const bytes = messageBytes(r);
            const players = r.requests.map((m) => (Array.isArray(m.players) ? m.players.length : 0));
            const s: Sample = {
              batchMs: r.phase5Ms,
              workerMs: r.workerSpanMs,
              cpuMs: (cpu.user + cpu.system) / 1000,
              messages: r.requests.length,
              maxBytes: Math.max(...bytes),
              maxPlayers: Math.max(...players),
              status: String(r.message.status),
            };
            if (s.status !== 'success') throw new Error(`K=${k}: phase 5 '${s.status}'`);
            samples.get(k)?.push(s);
            ctx.log(
              `chunks round ${i}/${rounds} K=${k}: batch ${s.batchMs.toFixed(0)} ms, worker ${s.workerMs.toFixed(0)} ms, cpu ${s.cpuMs.toFixed(0)} ms, ${s.messages} messages, largest ${s.maxBytes} B`,
            );
          } finally {
            await stack.close();
          }
        }
      }
      const base = median((samples.get(16) ?? []).map((s) => s.batchMs));
      for (const k of CHUNK_SIZES) {
        const ss = samples.get(k) ?? [];
        const first = ss[0] as Sample;
        const bytesPerPlayer = first.maxBytes / first.maxPlayers;
        ctx.emit({
          name: 'chunks',
          k,
          rounds: ss.length,
          messages: first.messages,
          batch_ms_median: round(median(ss.map((s) => s.batchMs)), 0),
          batch_ms_runs: ss.map((s) => round(s.batchMs, 0)).join(' '),
          vs_k16: round(median(ss.map((s) => s.batchMs)) / base, 2),
          worker_span_ms_median: round(median(ss.map((s) => s.workerMs)), 0),
          cpu_ms_median: round(median(ss.map((s) => s.cpuMs)), 0),
          largest_message_bytes: first.maxBytes,
          bytes_per_player: round(bytesPerPlayer, 0),
          [`bytes_at_k${MAX_PLAYERS_PER_MESSAGE}_est`]: round(bytesPerPlayer * MAX_PLAYERS_PER_MESSAGE, 0),
          share_of_pubsub_limit_at_max: round((bytesPerPlayer * MAX_PLAYERS_PER_MESSAGE) / PUBSUB_LIMIT_BYTES, 3),
        });
      }
    } finally {
      await world.warehouse.close();
    }
  },
};
