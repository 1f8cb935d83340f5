/** Shared pieces of the benchmarks: result records, timing, percentiles, formatting. */
import { pino } from 'pino';

/** One measured row: `name` is the benchmark, the other fields its figures (numbers, strings, booleans or null). */
export type Figures = Record<string, string | number | boolean | null>;
export interface BenchRecord extends Figures {
  name: string;
}

export interface BenchContext {
  /** Simulated warehouse round trip for the "with latency" variants (ms). */
  rttMs: number;
  /** Directory holding the seeded demo world shared by start, batch and worker (warehouse file + models). */
  worldDir: string;
  /** Emits one result row (printed as a JSON line or gathered into the table). */
  emit(record: BenchRecord): void;
  /** Progress on stderr. */
  log: (line: string) => void;
}

export interface Benchmark {
  name: string;
  description: string;
  /** The child process's hard cap (default 240 s). */
  capMs?: number;
  /** Runs only when named (`npm run bench -- <name>`), not in the default suite. */
  onlyByName?: boolean;
  /** Node flags its child process needs (e.g. --expose-gc). */
  nodeFlags?: readonly string[];
  run(ctx: BenchContext): Promise<void>;
}

/** The services' logger in benchmarks: pino at level silent. */
export const silentLogger = pino({ level: 'silent' });

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { ms: performance.now() - t0, value };
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN for none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

export const round = (x: number, digits = 1): number => {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Rejects after `ms` with a message naming `what` (the benchmarks' hard caps). */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Renders records of one benchmark as a plain-text table (columns = union of keys, in first-seen order). */
export function renderTable(records: readonly BenchRecord[]): string {
  const columns: string[] = [];
  for (const r of records) for (const k of Object.keys(r)) if (k !== 'name' && !columns.includes(k)) columns.push(k);
  const cell = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'number' ? formatNumber(v) : String(v));
  const rows = records.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  return abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : abs >= 1 ? v.toFixed(2) : v.toFixed(3);
}
