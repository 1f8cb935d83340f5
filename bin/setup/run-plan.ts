/** Runs a setup plan: prints every command, skips what exists, stops at the first failure naming the step. */
import { spawn } from 'node:child_process';
import type { Step } from './plan.js';

export interface RunOptions {
  dryRun: boolean;
  out: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface RunSummary {
  created: number;
  skipped: number;
  planned: number;
}

/** Shell-quotes a command for printing, so a printed line can be pasted into a shell as it is. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

interface Exit {
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

export async function runPlan(steps: readonly Step[], opts: RunOptions): Promise<RunSummary> {
  const summary: RunSummary = { created: 0, skipped: 0, planned: 0 };
  for (const [i, step] of steps.entries()) {
    opts.out(`# [${i + 1}/${steps.length}] ${step.title}`);
    if (opts.dryRun) {
      if (step.check) opts.out(`#   unless this succeeds: ${shellLine(step.check)}`);
      opts.out(shellLine(step.run));
      summary.planned += 1;
      continue;
    }
    if (step.check) {
      opts.out(`$ ${shellLine(step.check)}`);
      const found = await exec(step.check, opts.env, true);
      if (found.code === 0) {
        opts.out('  exists; skipped');
        summary.skipped += 1;
        continue;
      }
    }
    opts.out(`$ ${shellLine(step.run)}`);
    const done = await exec(step.run, opts.env, false);
    if (done.code !== 0 && step.alreadyDone !== undefined && done.output.includes(step.alreadyDone)) {
      opts.out('  already in place');
      summary.skipped += 1;
      continue;
    }
    if (done.code !== 0) throw new Error(`setup step ${i + 1} (${step.title}) failed with exit ${done.code}: ${done.output.trim().split('\n').slice(-3).join(' | ')}`);
    summary.created += 1;
  }
  return summary;
}
