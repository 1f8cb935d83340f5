/**
 * Runs the services as Cloud Run does: compiled with the build's tsconfig, started with `node dist/services/<svc>/main.js`
 * and configured only through the environment. For tests that check the composition roots (main.ts) and process behaviour.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from './free-port.js';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

export const baseEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', METADATA_SERVER_DETECTION: 'none', NODE_ENV: 'production' });

export function runOrThrow(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, env: baseEnv(), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stdout + r.stderr).slice(-2000)}`);
}

/** Compiles services/, shared/ and bin/ into `<dir>/dist` exactly as `npm run build` does, without touching the repo's dist/. */
export function buildDist(dir: string): void {
  runOrThrow(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], repoRoot);
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  logs: () => string;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

/**
 * Starts `<dir>/dist/services/<service>/main.js` on a loopback port (a free one unless `opts.port`: a restart keeps its
 * address, which the other process was configured with) and waits until /ready answers 200; `onOutput` sees the output so
 * far while it boots.
 */
export async function bootService(dir: string, service: 'coordinator' | 'worker', env: Record<string, string>, opts: { port?: number; onOutput?: (text: string) => void } = {}): Promise<ServiceProcess> {
  const port = opts.port ?? (await freePort());
  const child = spawn(process.execPath, [`dist/services/${service}/main.js`], {
    cwd: dir,
    env: { ...baseEnv(), HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
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
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode} before it was ready: ${out}`);
    const ready = await fetch(`${url}/ready`).then((r) => r.status, () => 0);
    if (ready === 200) return { child, url, logs: () => out, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${service} never reported ready: ${out}`);
}
