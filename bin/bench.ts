/**
 * `npm run bench [-- <name>…] [--only a,b] [--json]`: the performance benchmarks (docs/benchmarks.md).
 *
 *   lines      batched line queries vs the original per-player waterfall (50/365/500 players, ~1 M odds rows)
 *   start      POST /start → 202 for a 15-game slate with 8 models: warehouse queries, p50/p95, without and with latency
 *   batch      a warm batch (POST /start → phase-5 message) against the sum of its floors, side by side; its phases
 *   chunks     the warm batch for PLAYERS_PER_MESSAGE K = 1…64 side by side; bytes per message
 *   inference  rows/s: onnxruntime at batch 1/50/500/5000 vs the plain TypeScript evaluator
 *   worker     the worker's /predict per message of K players: ms per message, marginal ms per player (slope)
 *   profile    a V8 CPU profile of warm batches: top self-time frames, the project's steps
 *   seed       seeding the demo world's season window into a fresh DuckDB file; the same call again; a day later
 *   season     (by name only) a 165-date backfill through the real CLI, with a --concurrency 1 reference
 *   heap       (by name only) heap after 5 … 50 consecutive batches, GC forced
 *
 * Options: --only a,b (the same as naming them), --json (one JSON object per line: {"name": …, …figures}), --rtt-ms N
 * (simulated warehouse round trip, default 300), --runs N (warm rounds, default 5; chunks at most 2), --rtt-runs N, --requests N and
 * --concurrency N (default 2000 and 8), --world-dir DIR (keep the seeded demo worlds there; default a temp directory
 * removed at the end), --cpu-prof-dir DIR (where profile and season write .cpuprofile files), --season-days N,
 * --season-reference-days N, --season-concurrency a,b, --season-interval S, --season-runs N, --service-env K=V,…,
 * --in-process (every benchmark in this process instead of one child each).
 *
 * Each benchmark runs in its own child process by default, so peak RSS and heap state belong to that benchmark alone.
 * Every record carries the load average when it was taken (`load`: 1, 5, 15 minutes, as `uptime` prints).
 * Everything listens on 127.0.0.1. Each child has a hard time cap.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderTable, type BenchContext, type BenchRecord, type Benchmark } from './bench/common.js';
import { linesBenchmark } from './bench/lines.js';
import { startBenchmark } from './bench/start.js';
import { batchBenchmark } from './bench/batch.js';
import { inferenceBenchmark } from './bench/inference.js';
import { workerBenchmark } from './bench/worker.js';
import { seedBenchmark } from './bench/seed.js';
import { seasonBenchmark } from './bench/season.js';
import { chunksBenchmark } from './bench/chunks.js';
import { heapBenchmark } from './bench/heap.js';
import { profileBenchmark } from './bench/profile.js';
import { setBenchOptions } from './bench/options.js';
import { errorMessage } from '../shared/errors/error-message.js';

const BENCHMARKS: readonly Benchmark[] = [
  linesBenchmark,
  startBenchmark,
  batchBenchmark,
  chunksBenchmark,
  inferenceBenchmark,
  workerBenchmark,
  profileBenchmark,
  seedBenchmark,
  seasonBenchmark,
  heapBenchmark,
];
/** Hard cap per benchmark child unless the benchmark sets its own (the whole default suite is meant to stay under ~5 minutes). */
const CHILD_CAP_MS = 240_000;

// eslint-disable-next-line complexity -- CLI entry: parses options, then runs each chosen benchmark in a child with its cap; flat and read top to bottom
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      'rtt-ms': { type: 'string', default: '300' },
      runs: { type: 'string', default: '5' },
      'rtt-runs': { type: 'string', default: '3' },
      requests: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '8' },
      'world-dir': { type: 'string' },
      'season-runs': { type: 'string', default: '1' },
      'season-concurrency': { type: 'string', default: '' },
      'season-interval': { type: 'string', default: '' },
      'season-days': { type: 'string', default: '165' },
      'season-reference-days': { type: 'string', default: '10' },
      'cpu-prof-dir': { type: 'string' },
      only: { type: 'string', default: '' },
      'service-env': { type: 'string', default: '' },
      'in-process': { type: 'boolean', default: false },
      child: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${v}`);
    return n;
  };
  const positive = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a number > 0, got ${v}`);
    return n;
  };
  const rttMs = int('rtt-ms', values['rtt-ms'], 0);
  setBenchOptions({
    runs: int('runs', values.runs, 1),
    rttRuns: int('rtt-runs', values['rtt-runs'], 1),
    requests: int('requests', values.requests, 1),
    concurrency: int('concurrency', values.concurrency, 1),
    seasonRuns: int('season-runs', values['season-runs'], 1),
    seasonConcurrency: (values['season-concurrency'] ?? '')
      .split(',')
      .filter((v) => v !== '')
      .map((v) => int('season-concurrency', v, 1)),
    seasonInterval: values['season-interval'] ? positive('season-interval', values['season-interval']) : undefined,
    seasonDays: int('season-days', values['season-days'], 1),
    seasonReferenceDays: int('season-reference-days', values['season-reference-days'], 0),
    cpuProfDir: values['cpu-prof-dir'],
    serviceEnv: Object.fromEntries(
      (values['service-env'] ?? '')
        .split(',')
        .filter((kv) => kv !== '')
        .map((kv) => {
          const eq = kv.indexOf('=');
          if (eq < 1) throw new Error(`--service-env takes KEY=VALUE[,KEY=VALUE…], got ${kv}`);
          return [kv.slice(0, eq), kv.slice(eq + 1)];
        }),
    ),
  });
  // `--only a,b` and positional names select the same way.
  const named = [...positionals, ...(values.only ?? '').split(',').filter((n) => n !== '')];
  const unknown = named.filter((p) => !BENCHMARKS.some((b) => b.name === p));
  if (unknown.length > 0)
    throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  const selected = named.length > 0 ? BENCHMARKS.filter((b) => named.includes(b.name)) : BENCHMARKS.filter((b) => !b.onlyByName);

  const ownWorldDir = values['world-dir'] === undefined;
  const worldDir = values['world-dir'] ?? mkdtempSync(join(tmpdir(), 'nba-bench-world-'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const out = (line: string) => process.stdout.write(`${line}\n`);

  // A child runs its benchmarks here and writes JSON lines for the parent.
  if (values.child || values['in-process']) {
    const records: BenchRecord[] = [];
    // Every figure carries the load average when it was taken (the machine is shared: `uptime`'s three numbers).
    const emit = (r: BenchRecord) => {
      const withLoad = r.load === undefined && r.name !== 'machine' ? { ...r, load: loadNow() } : r;
      records.push(withLoad);
      if (values.json || values.child) out(JSON.stringify(withLoad));
    };
    if (!values.child) emit(machineRecord(rttMs, 'in-process'));
    let failed = 0;
    try {
      for (const b of selected) {
        const ctx: BenchContext = { rttMs, worldDir, emit, log };
        try {
          await b.run(ctx);
        } catch (err) {
          failed++;
          log(`${b.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
          emit({ name: b.name, error: errorMessage(err) });
        }
      }
    } finally {
      if (ownWorldDir && !values.child) rmSync(worldDir, { recursive: true, force: true });
    }
    if (!values.json && !values.child) printTables(records, out);
    return failed > 0 ? 1 : 0;
  }

  const records: BenchRecord[] = [];
  const emit = (r: BenchRecord) => {
    records.push(r);
    if (values.json) out(JSON.stringify(r));
  };
  emit(machineRecord(rttMs, 'one child process per benchmark'));
  const childOptions = [
    '--rtt-ms',
    String(rttMs),
    ...(
      [
        'runs',
        'rtt-runs',
        'requests',
        'concurrency',
        'season-runs',
        'season-concurrency',
        'season-interval',
        'season-days',
        'season-reference-days',
        'service-env',
        'cpu-prof-dir',
      ] as const
    ).flatMap((k) => (values[k] === undefined ? [] : [`--${k}`, String(values[k])])),
  ];
  let failed = 0;
  try {
    for (const b of selected) {
      log(`── ${b.name}: ${b.description}`);
      const t0 = performance.now();
      const ok = await runChild(b, worldDir, childOptions, emit, log);
      log(`── ${b.name}: ${ok ? 'done' : 'FAILED'} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (!ok) failed++;
    }
  } finally {
    if (ownWorldDir) rmSync(worldDir, { recursive: true, force: true });
  }
  if (!values.json) printTables(records, out);
  return failed > 0 ? 1 : 0;
}

/** The load average now, as `uptime` prints it (1, 5, 15 minutes). */
function loadNow(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

function machineRecord(rttMs: number, mode: string): BenchRecord {
  const cpu = cpus();
  return {
    name: 'machine',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpu.length,
    nproc: availableParallelism(),
    load_at_start: loadNow(),
    cpu_model: cpu[0]?.model.trim() ?? 'unknown',
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    free_memory_gb: Math.round((freemem() / 2 ** 30) * 10) / 10,
    rtt_ms: rttMs,
    mode,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  };
}

/** Runs one benchmark in a child process (this script with --child); forwards its records; kills it at the cap. */
function runChild(
  b: Benchmark,
  worldDir: string,
  childOptions: readonly string[],
  emit: (r: BenchRecord) => void,
  log: (line: string) => void,
): Promise<boolean> {
  const name = b.name;
  const capMs = b.capMs ?? CHILD_CAP_MS;
  const args = [
    ...process.execArgv,
    ...(b.nodeFlags ?? []),
    process.argv[1] as string,
    name,
    '--child',
    '--world-dir',
    worldDir,
    ...childOptions,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    let sawError = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        try {
          const rec = JSON.parse(line) as BenchRecord;
          if (rec.error !== undefined) sawError = true;
          emit(rec);
        } catch {
          log(`  ${name}: ${line}`);
        }
      }
    });
    const timer = setTimeout(() => {
      log(`── ${name}: exceeded the ${capMs / 1000} s cap; stopping it`);
      emit({ name, error: `exceeded the ${capMs / 1000} s cap` });
      sawError = true;
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, capMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 && !sawError);
    });
  });
}

function printTables(records: readonly BenchRecord[], out: (line: string) => void): void {
  const names = [...new Set(records.map((r) => r.name))];
  for (const name of names) {
    const rows = records.filter((r) => r.name === name);
    out(`\n${name}`);
    if (name === 'machine') {
      for (const [k, v] of Object.entries(rows[0] ?? {})) if (k !== 'name') out(`  ${k}: ${String(v)}`);
      continue;
    }
    out(renderTable(rows));
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
