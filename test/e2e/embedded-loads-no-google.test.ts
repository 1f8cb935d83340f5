/**
 * The embedded default as the README runs it in two processes — the coordinator hosting the DuckDB file, the local bus and
 * the batch store; the worker reaching them over loopback — loads no Google Cloud client: neither process resolves a
 * module of any `@google-cloud/*` package, nor google-auth-library (the ID-token verifier loads it at its first token; API
 * keys and push auth off never verify one). A preload (test/helpers/module-trace.mjs) records every module each process
 * resolves. A control run of the selectors on their Google paths proves the trace sees the clients when they are loaded.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyWorld } from '../helpers/tiny-world.js';
import { baseEnv, bootService, buildDist, repoRoot } from '../helpers/service-process.js';

const dir = mkdtempSync(join(tmpdir(), 'embedded-no-google-'));
const moduleTrace = join(repoRoot, 'test/helpers/module-trace.mjs');
const KEY = 'embedded-no-google-key-0123456789';
let dbPath = '';
let modelsDir = '';

/** The `@google-cloud/*` packages whose modules a module-trace file lists as resolved. */
function googleCloudPackages(traceFile: string): string[] {
  const text = existsSync(traceFile) ? readFileSync(traceFile, 'utf8') : '';
  return [...new Set([...text.matchAll(/node_modules\/(@google-cloud\/[^/]+)\//g)].map((m) => m[1] as string))].sort();
}

beforeAll(async () => {
  buildDist(dir);
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  dbPath = join(dir, 'warehouse.duckdb');
  const world = await createTinyWorld({ gameDate: '2026-03-10', players: 4, path: dbPath });
  modelsDir = world.modelsDir;
  await world.warehouse.close();
}, 300_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the embedded default in two processes', () => {
  it('the trace sees a Google client when a selector on its Google path loads one (control)', () => {
    const control = join(dir, 'trace-google-paths.txt');
    const script = `
      import { createPubSubBus } from './dist/shared/adapters/select/bus.js';
      import { createFirestoreBatchStore } from './dist/shared/adapters/select/batch-store.js';
      import { createModelStore } from './dist/shared/adapters/select/model-store.js';
      import { openWarehouse } from './dist/shared/adapters/select/warehouse.js';
      const log = { child: () => log, warn() {}, info() {}, error() {}, debug() {} };
      await createPubSubBus({ GCP_PROJECT_ID: 'trace-test', PUBSUB_BATCH_MS: 10 });
      await createFirestoreBatchStore({ GCP_PROJECT_ID: 'trace-test', FIRESTORE_DATABASE: '(default)', FIRESTORE_ROOT: 'prediction-coordinator/trace' }, { now: () => new Date() });
      await createModelStore({ MODEL_STORE: 'gcs', MODEL_STORE_ROOT: '.', GCP_PROJECT_ID: 'trace-test' });
      await openWarehouse({ WAREHOUSE: 'bigquery', DUCKDB_PATH: '', GCP_PROJECT_ID: 'trace-test', BIGQUERY_LOCATION: 'US', BIGQUERY_JOB_TIMEOUT_SECONDS: 10, BIGQUERY_MAX_BYTES_BILLED: 0 }, 'trace', log);
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--import', moduleTrace, '--input-type=module', '-e', script], {
      cwd: dir,
      env: { ...baseEnv(), MODULE_TRACE_FILE: control },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(googleCloudPackages(control)).toEqual(
      expect.arrayContaining(['@google-cloud/bigquery', '@google-cloud/firestore', '@google-cloud/pubsub', '@google-cloud/storage']),
    );
  }, 180_000);

  it('both processes serve, the worker loads its models through the coordinator, neither loads a Google client, both exit 0', async () => {
    const traces = { coordinator: join(dir, 'trace-coordinator.txt'), worker: join(dir, 'trace-worker.txt') };
    const c = await bootService(
      dir,
      'coordinator',
      { COORDINATOR_API_KEY: KEY, DUCKDB_PATH: dbPath, MODULE_TRACE_FILE: traces.coordinator },
      { nodeArgs: ['--import', moduleTrace] },
    );
    const w = await bootService(
      dir,
      'worker',
      { EMBEDDED_HOST_URL: c.url, MODEL_STORE_ROOT: modelsDir, MODULE_TRACE_FILE: traces.worker },
      { nodeArgs: ['--import', moduleTrace] },
    );
    try {
      expect((await fetch(`${c.url}/status`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
      const models = (await (await fetch(`${w.url}/models`)).json()) as { ready?: boolean; loaded?: Array<{ system_id: string }> };
      expect(models.ready).toBe(true);
      expect(models.loaded?.map((m) => m.system_id)).toContain('catboost_v9_tiny');
    } finally {
      expect(await w.stop()).toBe(0);
      expect(await c.stop()).toBe(0);
    }
    for (const [service, file] of Object.entries(traces)) {
      expect(readFileSync(file, 'utf8'), service).toContain('/dist/services/');
      expect(googleCloudPackages(file), service).toEqual([]);
      expect(readFileSync(file, 'utf8'), service).not.toContain('/node_modules/google-auth-library/');
    }
  }, 180_000);
});
