/**
 * Runs the services as Cloud Run does: compiled with the build's tsconfig, started with `node dist/services/<svc>/main.js`
 * and configured only through the environment. For tests that check the composition roots (main.ts) and process behaviour.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import { freePort } from './free-port.js';
import { CLOCK_ENV } from './clock.js';
import { join, resolve } from 'node:path';
import { linkTree } from './link-tree.js';

export const repoRoot = resolve(import.meta.dirname, '../..');

export const baseEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  METADATA_SERVER_DETECTION: 'none',
  NODE_ENV: 'production',
});

/**
 * Puts the compiled services/, shared/ and bin/ into `<dir>/dist`, as `npm run build` writes them, without touching the
 * repo's dist/: the run's one build (test/global-setup.ts), hard-linked (linkTree: no bytes copied), so each test has a
 * tree of its own to add files to (never to write into: its files are the build's).
 */
export function buildDist(dir: string): void {
  linkTree(join(inject('buildDir'), 'dist'), join(dir, 'dist'));
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  logs: () => string;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

export interface BootOptions {
  /** The command, as an image's CMD (`node` is this node). Default: `node dist/services/<service>/main.js`. */
  cmd?: readonly string[];
  /** Wait until /ready answers 200 (default), or only until the process answers HTTP at all (`listening`). */
  until?: 'ready' | 'listening';
  /** This loopback port instead of a free one: a restart keeps its address, which the other process was configured with. */
  port?: number;
  /** Sees the output so far, while the service boots and after. */
  onOutput?: (text: string) => void;
  /** Node options before the script (e.g. `--import` a preload); only with `node`. */
  nodeArgs?: readonly string[];
}

/** Starts a service on a loopback port in `dir` and waits until /ready answers 200 (or, with `until: 'listening'`, anything). */
export async function bootService(
  dir: string,
  service: 'coordinator' | 'worker',
  env: Record<string, string>,
  opts: BootOptions = {},
): Promise<ServiceProcess> {
  const port = opts.port ?? (await freePort());
  const [cmd = 'node', ...args] = opts.cmd ?? ['node', `dist/services/${service}/main.js`];
  const child = spawn(cmd === 'node' ? process.execPath : cmd, cmd === 'node' ? [...(opts.nodeArgs ?? []), ...args] : args, {
    cwd: dir,
    // The port is this helper's to choose, as Cloud Run's: it overrides a PORT from the image's ENV.
    // The test's day (CLOCK_START) unless the test says otherwise.
    env: { ...baseEnv(), LOG_LEVEL: 'info', ...CLOCK_ENV, ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const take = (d: Buffer) => {
    out += d.toString();
    opts.onOutput?.(out);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<number | null>((res) => {
      if (child.exitCode !== null) return res(child.exitCode);
      child.once('exit', (code) => res(code));
      child.kill('SIGTERM');
    });
  // A bound on a hung boot, generous for a machine whose cores are busy with other work.
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode} before it was ready: ${out}`);
    const ready = await fetch(`${url}/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (ready === 200 || (opts.until === 'listening' && ready !== 0)) return { child, url, logs: () => out, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${service} never reported ready: ${out}`);
}
