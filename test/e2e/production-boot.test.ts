/**
 * What the runtime images run: a production-only install (`npm ci --omit=dev`, other platforms' onnxruntime binaries pruned,
 * as the Dockerfiles do) and `node dist/services/<svc>/main.js`. Both services must boot, report ready, serve, and exit 0 on
 * SIGTERM after draining. This catches a dev-only import in production code (the original's crash-looping revision).
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyWorld } from '../helpers/tiny-world.js';
import { bootService, buildDist, repoRoot, runOrThrow } from '../helpers/service-process.js';

const dir = mkdtempSync(join(tmpdir(), 'prod-boot-'));

describe('the production install boots both services', () => {
  let dbPath = '';
  let modelsDir = '';

  beforeAll(async () => {
    buildDist(dir);
    for (const f of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(repoRoot, f), join(dir, f));
    // The runtime stage of the Dockerfiles, line for line.
    runOrThrow('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], dir);
    runOrThrow('sh', ['-c', 'arch="$(node -p process.arch)"; ort=node_modules/onnxruntime-node/bin/napi-v6; rm -rf "$ort/darwin" "$ort/win32"; find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} +'], dir);
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
    const c = await bootService(dir, 'coordinator', { COORDINATOR_API_KEY: 'prod-boot-test-key-0123456789', DUCKDB_PATH: dbPath });
    expect((await fetch(`${c.url}/health`)).status).toBe(200);
    const unauth = await fetch(`${c.url}/status`);
    expect(unauth.status).toBe(401);
    const status = await fetch(`${c.url}/status`, { headers: { 'x-api-key': 'prod-boot-test-key-0123456789' } });
    expect(status.status).toBe(200);
    expect(await c.stop()).toBe(0);
    expect(c.logs()).toContain('shutdown complete');
    expect(c.logs()).not.toContain('prod-boot-test-key-0123456789');
  }, 60_000);

  it('the worker loads the registry models with onnxruntime (through the coordinator that hosts the embedded warehouse), answers, and exits 0 on SIGTERM', async () => {
    const c = await bootService(dir, 'coordinator', { COORDINATOR_API_KEY: 'prod-boot-test-key-0123456789', DUCKDB_PATH: dbPath });
    const w = await bootService(dir, 'worker', { EMBEDDED_HOST_URL: c.url, MODEL_STORE_ROOT: modelsDir });
    const models = (await (await fetch(`${w.url}/models`)).json()) as { models?: Array<{ system_id: string; loaded?: boolean }> };
    expect(JSON.stringify(models)).toContain('catboost_v9_tiny');
    expect(await w.stop()).toBe(0);
    expect(w.logs()).toContain('shutdown complete');
    expect(await c.stop()).toBe(0);
  }, 60_000);

  it('a programmer error that escapes every handler is logged with its stack (Error Reporting) and ends the process', async () => {
    // The same process-level handlers main.ts installs, in a process of the built image that then throws unhandled.
    writeFileSync(
      join(dir, 'dist', 'probe.mjs'),
      [
        "import { createLogger } from './shared/logging/logger.js';",
        "import { installProcessHandlers } from './shared/http/serve.js';",
        "installProcessHandlers(createLogger({ service: 'probe', level: 'info' }), 'probe');",
        "setTimeout(() => Promise.reject(new RangeError('a bug nobody caught')), 10);",
        'setTimeout(() => {}, 5000);',
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, [join(dir, 'dist', 'probe.mjs')], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(1);
    const reported = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['@type'] === 'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent');
    expect(reported).toMatchObject({ severity: 'ERROR', event: 'unhandledRejection', serviceContext: { service: 'probe' } });
    expect(String(reported?.message)).toMatch(/^RangeError: a bug nobody caught\n\s+at /);
    expect(r.stderr).toContain('"severity":"CRITICAL"');
  }, 30_000);

  it('a worker on the embedded default without the host that holds the warehouse refuses to start, saying what to set', async () => {
    await expect(bootService(dir, 'worker', { DUCKDB_PATH: dbPath, MODEL_STORE_ROOT: modelsDir })).rejects.toThrow(/needs EMBEDDED_HOST_URL/);
  }, 60_000);
});
