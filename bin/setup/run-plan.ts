/**
 * Runs a setup plan, converging on it: prints every command; a step whose resource exists is compared with the plan and
 * updated where it differs (or refused with a message saying what to do); what is missing is created; refusals IAM gives
 * while it propagates a new account are retried; what Google builds asynchronously is waited for. Stops at the first
 * failure, naming the step.
 */
import { spawn } from 'node:child_process';

export interface Check {
  /** Exit 0 (and `found`, when given, true of its output) means the resource exists. */
  argv: readonly string[];
  found?: (output: string) => boolean;
}

export type Convergence =
  | { kind: 'in_place'; notes?: string[] }
  | { kind: 'update'; differences: string[]; commands: ReadonlyArray<readonly string[]> }
  | { kind: 'refuse'; message: string };

export interface Retry {
  /** Waits before each further attempt; its length is the number of retries. */
  delaysMs: readonly number[];
  /** Output of a failed attempt that means "try again later". */
  when: RegExp;
  reason: string;
}

export interface Wait {
  argv: readonly string[];
  done: (output: string) => boolean;
  what: string;
  timeoutMs: number;
  intervalMs: number;
}

export interface Step {
  /** What the step makes, for the printed plan. */
  title: string;
  check?: Check;
  /** Makes the resource (or the binding) when the check does not find it; absent for steps that only converge. */
  run?: readonly string[];
  /** When the check finds the resource: in place, update it, or refuse with what to do. Gets the check's output. */
  converge?: (found: string) => Convergence;
  /** How the dry run describes `converge`. */
  convergeNote?: string;
  /** Output of a failed `run` that means the resource is already there (for commands with no describe). */
  alreadyDone?: string;
  retry?: Retry;
  /** After the step, poll until Google reports the resource ready. */
  waitUntil?: Wait;
  /** Added to the failure message: what usually causes it and what to do. */
  hint?: string;
}

export interface RunOptions {
  dryRun: boolean;
  out: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Runs one command, capturing its output (and echoing it unless `capture`); default: spawn it. Injectable for tests. */
  exec?: (argv: readonly string[], capture: boolean) => Promise<Exit>;
  /** Injectable for tests; default setTimeout and Date.now. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface RunSummary {
  created: number;
  updated: number;
  skipped: number;
  planned: number;
}

/** Shell-quotes a command for printing, so a printed line can be pasted into a shell as it is. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export interface Exit {
  code: number;
  output: string;
}

function exec(argv: readonly string[], env: NodeJS.ProcessEnv | undefined, capture: boolean): Promise<Exit> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new Error('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!capture) process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
      if (!capture) process.stderr.write(d);
    });
    child.on('error', (err) => reject(new Error(`cannot run ${cmd}: ${err.message}`)));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const lastLines = (output: string) => output.trim().split('\n').slice(-3).join(' | ');

class StepFailure extends Error {}

// eslint-disable-next-line complexity -- the apply loop: check, create/update, retry on propagation and the dry-run path for each step, in one place
export async function runPlan(steps: readonly Step[], opts: RunOptions): Promise<RunSummary> {
  const summary: RunSummary = { created: 0, updated: 0, skipped: 0, planned: 0 };
  const run = opts.exec ?? ((argv: readonly string[], capture: boolean) => exec(argv, opts.env, capture));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (const [i, step] of steps.entries()) {
    opts.out(`# [${i + 1}/${steps.length}] ${step.title}`);
    const fail = (message: string): never => {
      throw new StepFailure(`setup step ${i + 1} (${step.title}) ${message}${step.hint ? ` — ${step.hint}` : ''}`);
    };
    if (opts.dryRun) {
      printDryRun(step, opts.out);
      summary.planned += 1;
      continue;
    }

    /** Runs one command, retrying what the step says is transient; returns its exit. */
    const attempt = async (argv: readonly string[]): Promise<Exit> => {
      opts.out(`$ ${shellLine(argv)}`);
      let done = await run(argv, false);
      for (const [n, delay] of (step.retry?.delaysMs ?? []).entries()) {
        if (done.code === 0 || !step.retry?.when.test(done.output)) break;
        opts.out(
          `  ${step.retry.reason}; retrying in ${Math.round(delay / 1000)} s (attempt ${n + 2} of ${step.retry.delaysMs.length + 1})`,
        );
        await sleep(delay);
        done = await run(argv, false);
      }
      return done;
    };

    let exists = false;
    if (step.check) {
      opts.out(`$ ${shellLine(step.check.argv)}`);
      const found = await run(step.check.argv, true);
      exists = found.code === 0 && (step.check.found ? safely(() => step.check?.found?.(found.output) ?? true, false) : true);
      if (exists && step.converge) {
        let verdict: Convergence;
        try {
          verdict = step.converge(found.output);
        } catch (err) {
          fail(`could not compare with the plan: ${err instanceof Error ? err.message : String(err)}`);
          throw err; // unreachable: fail throws
        }
        if (verdict.kind === 'refuse') fail(`refused: ${verdict.message}`);
        if (verdict.kind === 'in_place') {
          for (const note of verdict.notes ?? []) opts.out(`  note: ${note}`);
          opts.out('  exists and matches the plan; skipped');
          summary.skipped += 1;
        } else if (verdict.kind === 'update') {
          for (const diff of verdict.differences) opts.out(`  differs: ${diff}`);
          for (const cmd of verdict.commands) {
            const done = await attempt(cmd);
            if (done.code !== 0) fail(`update failed with exit ${done.code}: ${lastLines(done.output)}`);
          }
          summary.updated += 1;
        }
      } else if (exists) {
        opts.out('  exists; skipped');
        summary.skipped += 1;
      } else if (step.converge && !step.run) {
        fail(`could not read the current state (exit ${found.code}): ${lastLines(found.output)}`);
      }
    }
    if (!exists && step.run) {
      const done = await attempt(step.run);
      if (done.code !== 0 && step.alreadyDone !== undefined && done.output.includes(step.alreadyDone)) {
        opts.out('  already in place');
        summary.skipped += 1;
      } else if (done.code !== 0) {
        fail(`failed with exit ${done.code}: ${lastLines(done.output)}`);
      } else {
        summary.created += 1;
      }
    }
    if (step.waitUntil) await waitUntil(step.waitUntil, opts, run, sleep, fail);
  }
  return summary;
}

async function waitUntil(
  w: Wait,
  opts: RunOptions,
  run: NonNullable<RunOptions['exec']>,
  sleep: (ms: number) => Promise<void>,
  fail: (m: string) => never,
): Promise<void> {
  const now = opts.now ?? Date.now;
  const deadline = now() + w.timeoutMs;
  for (let n = 1; ; n++) {
    const probe = await run(w.argv, true);
    if (probe.code === 0 && safely(() => w.done(probe.output), false)) {
      if (n > 1) opts.out(`  ready after ${n} checks`);
      return;
    }
    if (now() >= deadline)
      fail(`timed out after ${Math.round(w.timeoutMs / 60_000)} min waiting for ${w.what}; re-run setup to keep waiting`);
    if (n === 1) opts.out(`  waiting for ${w.what} (checking every ${Math.round(w.intervalMs / 1000)} s): ${shellLine(w.argv)}`);
    await sleep(w.intervalMs);
  }
}

function safely<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

function printDryRun(step: Step, out: (line: string) => void): void {
  if (step.check) out(`#   ${step.run ? 'unless this finds it' : 'reads'}: ${shellLine(step.check.argv)}`);
  if (step.converge) out(`#   if it exists: ${step.convergeNote ?? 'compared with the plan'}`);
  if (step.retry) out(`#   retried while ${step.retry.reason} (up to ${step.retry.delaysMs.length} times)`);
  if (step.run) out(shellLine(step.run));
  if (step.waitUntil) out(`#   then waits for ${step.waitUntil.what}: ${shellLine(step.waitUntil.argv)}`);
}
