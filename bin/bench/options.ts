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
  /** The reference run before the season: the season's first N dates at --concurrency 1 (0: none). */
  seasonReferenceDays: number;
  /** More service configuration for the season's stack, as the services' environment would give it (--service-env K=V,…). */
  serviceEnv: Record<string, string>;
  /** Where the profile benchmark writes its .cpuprofile (undefined: the world directory). */
  cpuProfDir: string | undefined;
}

let current: BenchOptions = {
  runs: 5,
  rttRuns: 3,
  requests: 2000,
  concurrency: 8,
  seasonRuns: 1,
  seasonConcurrency: [],
  seasonInterval: undefined,
  seasonDays: 165,
  seasonReferenceDays: 10,
  serviceEnv: {},
  cpuProfDir: undefined,
};

export function setBenchOptions(o: BenchOptions): void {
  current = o;
}

export function benchOptions(): BenchOptions {
  return current;
}
