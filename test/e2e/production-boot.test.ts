/**
 * What the runtime images run: a production-only install (`npm ci --omit=dev`, other platforms' onnxruntime binaries pruned,
 * as the Dockerfiles do) and `node dist/services/<svc>/main.js`. Both services must boot, report ready, serve, and exit 0 on
 * SIGTERM after draining. This catches a dev-only import in production code (the original's crash-looping revision).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyWorld } from '../helpers/tiny-world.js';

const repo = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'prod-boot-'));
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', METADATA_SERVER_DETECTION: 'none', NODE_ENV: 'production' };

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stdout + r.stderr).slice(-2000)}`);
}

const freePort = () =>
  new Promise<number>((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });

interface Running {
  child: ChildProcess;
  url: string;
  logs: () => string;
}

async function boot(service: 'coordinator' | 'worker', extraEnv: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, [`dist/services/${service}/main.js`], {
    cwd: dir,
    env: { ...env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${service} exited with ${child.exitCode} before it was ready: ${out}`);
    const ready = await fetch(`${url}/ready`).then((r) => r.status, () => 0);
    if (ready === 200) return { child, url, logs: () => out };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${service} never reported ready: ${out}`);
}

function stop(r: Running): Promise<number | null> {
  return new Promise((res) => {
    r.child.once('exit', (code) => res(code));
    r.child.kill('SIGTERM');
  });
}

describe('the production install boots both services', () => {
  let dbPath = '';
  let modelsDir = '';

  beforeAll(async () => {
    run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], repo);
    for (const f of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(repo, f), join(dir, f));
    // The runtime stage of the Dockerfiles, line for line.
    run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], dir);
    run('sh', ['-c', 'arch="$(node -p process.arch)"; ort=node_modules/onnxruntime-node/bin/napi-v6; rm -rf "$ort/darwin" "$ort/win32"; find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} +'], dir);
    dbPath = join(dir, 'warehouse.duckdb');
    const world = await createTinyWorld({ gameDate: '2026-03-10', players: 4, path: dbPath });
    modelsDir = world.modelsDir;
    await world.warehouse.close();
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has no dev dependencies installed', () => {
    for (const dev of ['vitest', 'typescript']) expect(existsSync(join(dir, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(dir, 'node_modules', 'onnxruntime-node'))).toBe(true);
  });

  it('the coordinator boots, answers, and exits 0 on SIGTERM', async () => {
    const c = await boot('coordinator', { COORDINATOR_API_KEY: 'prod-boot-test-key-0123456789', DUCKDB_PATH: dbPath });
    expect((await fetch(`${c.url}/health`)).status).toBe(200);
    const unauth = await fetch(`${c.url}/status`);
    expect(unauth.status).toBe(401);
    const status = await fetch(`${c.url}/status`, { headers: { 'x-api-key': 'prod-boot-test-key-0123456789' } });
    expect(status.status).toBe(200);
    expect(await stop(c)).toBe(0);
    expect(c.logs()).toContain('shutdown complete');
    expect(c.logs()).not.toContain('prod-boot-test-key-0123456789');
  }, 60_000);

  it('the worker loads the registry models with onnxruntime, answers, and exits 0 on SIGTERM', async () => {
    const w = await boot('worker', { DUCKDB_PATH: dbPath, MODEL_STORE_ROOT: modelsDir });
    const models = (await (await fetch(`${w.url}/models`)).json()) as { models?: Array<{ system_id: string; loaded?: boolean }> };
    expect(JSON.stringify(models)).toContain('catboost_v9_tiny');
    expect(await stop(w)).toBe(0);
    expect(w.logs()).toContain('shutdown complete');
  }, 60_000);
});
