/** Options shared with the benchmarks (set once by bin/bench.ts from the command line). */
export interface BenchOptions {
  /** /start runs without latency. */
  runs: number;
  /** /start runs with the simulated round trip. */
  rttRuns: number;
  /** Worker load: total requests and concurrent keep-alive loops. */
  requests: number;
  concurrency: number;
  /** Season backfill: runs, and the CLI's --concurrency levels (empty: the CLI asks GET /capacity). */
  seasonRuns: number;
  seasonConcurrency: number[];
  /** The CLI's --interval in seconds (undefined: the CLI's default). */
  seasonInterval: number | undefined;
  /** Past dates the season backfill runs (the last N before today; default the window's 165). */
  seasonDays: number;
  /** More service configuration for the season's stack, as the services' environment would give it (--service-env K=V,…). */
  serviceEnv: Record<string, string>;
}

let current: BenchOptions = { runs: 5, rttRuns: 3, requests: 2000, concurrency: 8, seasonRuns: 1, seasonConcurrency: [], seasonInterval: undefined, seasonDays: 165, serviceEnv: {} };

export function setBenchOptions(o: BenchOptions): void {
  current = o;
}

export function benchOptions(): BenchOptions {
  return current;
}
