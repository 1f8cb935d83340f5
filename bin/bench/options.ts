/** Options shared with the benchmarks (set once by bin/bench.ts from the command line). */
export interface BenchOptions {
  /** /start runs without latency. */
  runs: number;
  /** /start runs with the simulated round trip. */
  rttRuns: number;
  /** Worker load: total requests and concurrent keep-alive loops. */
  requests: number;
  concurrency: number;
}

let current: BenchOptions = { runs: 5, rttRuns: 3, requests: 2000, concurrency: 8 };

export function setBenchOptions(o: BenchOptions): void {
  current = o;
}

export function benchOptions(): BenchOptions {
  return current;
}
