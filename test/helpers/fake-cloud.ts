/**
 * A stand-in for `gcloud` and `bq` when running the setup plan (run-plan.ts's `exec`): every call is recorded. Reads
 * (`describe`, `list`, `get-iam-policy`) answer from `resources`, keyed by the command's words up to and including the
 * resource name (e.g. `pubsub subscriptions describe prediction-request-prod-push`), as the JSON Google returns; a key in
 * `sequences` is answered one element of its list per call, the last one repeating. Unknown resources answer NOT_FOUND
 * (exit 1). `failures` make the next matching calls fail with the given output. Everything else succeeds.
 */
import type { Exit } from '../../bin/setup/run-plan.js';

export interface FakeFailure {
  /** A substring of the call's argument line (the arguments after the tool, joined by spaces). */
  match: string;
  /** How many matching calls fail (then they succeed). */
  times: number;
  output: string;
  code?: number;
}

export interface FakeCloudState {
  resources: Record<string, unknown>;
  failures?: FakeFailure[];
  sequences?: string[];
}

export interface FakeCloud {
  exec: (argv: readonly string[], capture: boolean) => Promise<Exit>;
  /** Every call as `gcloud <args…>` / `bq <args…>` (arguments joined by spaces). */
  calls(): string[];
}

export function fakeCloud(state: FakeCloudState): FakeCloud {
  const calls: string[] = [];
  const resources = structuredClone(state.resources);
  const failures = (state.failures ?? []).map((f) => ({ ...f }));
  const sequences = new Set(state.sequences ?? []);
  return {
    calls: () => [...calls],
    async exec(argv) {
      const [tool, ...args] = argv;
      if (tool !== 'gcloud' && tool !== 'bq') throw new Error(`the setup plan ran ${tool}, not gcloud or bq`);
      const line = args.join(' ');
      calls.push(`${tool} ${line}`);
      const failure = failures.find((f) => f.times > 0 && line.includes(f.match));
      if (failure) {
        failure.times -= 1;
        return { code: failure.code ?? 1, output: `${failure.output}\n` };
      }
      const verb = args.findIndex((a) => a === 'describe' || a === 'list' || a === 'get-iam-policy');
      if (verb < 0) return { code: 0, output: '' };
      const key = args.slice(0, verb + 2).join(' ');
      if (!Object.hasOwn(resources, key)) return { code: 1, output: `ERROR: NOT_FOUND: ${key}\n` };
      let value = resources[key];
      if (sequences.has(key) && Array.isArray(value)) value = value.length > 1 ? value.shift() : value[0];
      return { code: 0, output: typeof value === 'string' ? value : JSON.stringify(value) };
    },
  };
}
