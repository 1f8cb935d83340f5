/**
 * What the images run, without Docker: the Dockerfile's stages are run as written (test/helpers/dockerfile.ts) — the
 * production install from the lockfile, each service's prune to its own packages — and each target's CMD is started with
 * the configuration the deploy gives it, on the Google path: BigQuery (a local fake of its REST API, reached through
 * BIGQUERY_EMULATOR_HOST), credentials from a metadata server (a local stand-in, as on Cloud Run), K_SERVICE set. Neither
 * image holds DuckDB, so the BigQuery path booting at all proves it never loads DuckDB's native addon. This catches a
 * dev-only import in production code (the original's crash-looping revision) and a package missing from an image.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyWorld, type TinyWorld } from '../helpers/tiny-world.js';
import { bootService, buildDist, repoRoot } from '../helpers/service-process.js';
import { dockerEmulator, stageInstructions, type BuiltTarget } from '../helpers/dockerfile.js';
import { FakeBigQuery, type FakeResult } from '../helpers/fake-bigquery.js';
import { startFakeMetadata, type FakeMetadata } from '../helpers/fake-metadata.js';
import { IMAGES } from '../../bin/image/images.js';
import { PubSub } from '@google-cloud/pubsub';
import { topicNames } from '../../shared/config/common.js';
import { sharedEmulators } from '../helpers/shared-emulators.js';
import { TEST_TODAY } from '../helpers/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'prod-boot-'));
const DOCKERFILE = join(repoRoot, 'Dockerfile');
const PROJECT = 'demo-prod-boot';
const KEY = 'prod-boot-test-key-0123456789';
const PUSHER = `prediction-pubsub-push@${PROJECT}.iam.gserviceaccount.com`;

let images: Record<'coordinator' | 'worker', BuiltTarget>;
let bigquery: FakeBigQuery;
let metadata: FakeMetadata;
let world: TinyWorld;
let registryRows: Array<Record<string, unknown>>;
/**
 * The coordinator on the Google path keeps its batches in Firestore (the embedded store needs DuckDB, which no image
 * ships) and announces phase 5 on Pub/Sub even for a date without games: both are Google's emulators here.
 */
const emulators = sharedEmulators();
const gcloud = emulators !== null;

const REGISTRY_SCHEMA = [
  { name: 'model_id', type: 'STRING' },
  { name: 'model_version', type: 'STRING' },
  { name: 'gcs_path', type: 'STRING' },
  { name: 'feature_set', type: 'STRING' },
  { name: 'feature_count', type: 'INT64' },
  { name: 'is_production', type: 'BOOL' },
  { name: 'quantile_alpha', type: 'FLOAT64' },
  { name: 'sha256_hash', type: 'STRING' },
];

/** The BigQuery path as deployed (cloudbuild.yaml), against the local fakes. */
const google = () => ({
  GCP_PROJECT_ID: PROJECT,
  BIGQUERY_LOCATION: 'EU',
  BIGQUERY_EMULATOR_HOST: bigquery.url,
  GCE_METADATA_HOST: metadata.host,
  METADATA_SERVER_DETECTION: 'assume-present',
});

const registryAnswers = (rows: Array<Record<string, unknown>>) =>
  bigquery.onQuery((st): FakeResult | undefined => (st.sql.includes('model_registry') ? { schema: REGISTRY_SCHEMA, rows } : undefined));

beforeAll(async () => {
  buildDist(join(dir, 'build'));
  // The production install is the lockfile's tree without its dev packages, linked from the repo's node_modules (what
  // `npm ci` installed from the same lockfile; test/helpers/dockerfile.ts): the stage's command is checked below.
  const emulator = dockerEmulator({
    dockerfile: DOCKERFILE,
    context: repoRoot,
    buildStageDir: join(dir, 'build'),
    workDir: dir,
    installedFrom: repoRoot,
  });
  images = { coordinator: emulator.target('coordinator'), worker: emulator.target('worker') };
  bigquery = await FakeBigQuery.start();
  if (emulators) {
    const client = new PubSub({ projectId: PROJECT, apiEndpoint: emulators.pubsub });
    await client.createTopic(topicNames('-prod').phase5);
    await client.close();
  }
  metadata = await startFakeMetadata(PROJECT, `prediction-worker@${PROJECT}.iam.gserviceaccount.com`);
  world = await createTinyWorld({ gameDate: '2026-03-10', players: 4 });
  registryRows = await world.warehouse.query({
    name: 'registry',
    sql: `SELECT model_id, model_version, gcs_path, feature_set, feature_count, is_production, quantile_alpha, sha256_hash
          FROM {{nba_predictions.model_registry}} WHERE enabled = TRUE AND status = 'active' ORDER BY is_production DESC, model_id`,
  });
}, 600_000);

afterAll(async () => {
  await bigquery?.close();
  await metadata?.close();
  await world?.warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

const installed = (image: BuiltTarget) => {
  const top = readdirSync(join(image.dir, 'node_modules')).filter((n) => !n.startsWith('.'));
  return new Set(top.flatMap((n) => (n.startsWith('@') ? readdirSync(join(image.dir, 'node_modules', n)).map((m) => `${n}/${m}`) : [n])));
};

describe('the images', () => {
  it('are built from a build stage that only installs and compiles (what buildDist stands for here)', () => {
    const runs = stageInstructions(DOCKERFILE, 'build')
      .filter((i) => i.op === 'RUN')
      .map((i) => i.args);
    expect(runs).toEqual(['npm ci --no-audit --no-fund', 'npm run build']);
    expect((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build).toBe(
      'tsc -b tsconfig.build.json',
    );
  });

  it('install production dependencies with npm ci --omit=dev from the lockfile (what the emulation lays out from it)', () => {
    const install = stageInstructions(DOCKERFILE, 'prod-deps').filter((i) => i.op === 'RUN' || i.op === 'COPY');
    expect(install.map((i) => `${i.op} ${i.args}`).slice(0, 2)).toEqual([
      'COPY package.json package-lock.json ./',
      'RUN npm ci --omit=dev --no-audit --no-fund',
    ]);
    expect(images.worker.log.join('\n')).toMatch(
      /RUN npm ci --omit=dev --no-audit --no-fund\n\(materialized from package-lock.json: \d+ packages/,
    );
  });

  it('each hold their own service’s packages and code, no dev dependency, and no DuckDB', () => {
    for (const [service, image] of Object.entries(images) as Array<['coordinator' | 'worker', BuiltTarget]>) {
      const packages = installed(image);
      for (const dep of IMAGES[service].dependencies) expect(packages, `${service} has ${dep}`).toContain(dep);
      for (const absent of ['vitest', 'typescript', 'yaml', '@duckdb/node-api', '@duckdb/node-bindings'])
        expect(packages, `${service} lacks ${absent}`).not.toContain(absent);
      expect(image.cmd).toEqual(['node', IMAGES[service].main]);
      expect(readdirSync(join(image.dir, 'dist/services'))).toEqual([service]);
    }
    expect(installed(images.coordinator)).not.toContain('onnxruntime-node');
    expect(installed(images.coordinator)).not.toContain('@google-cloud/storage');
    expect(installed(images.worker)).not.toContain('@google-cloud/secret-manager');
    const ort = join(images.worker.dir, 'node_modules/onnxruntime-node/bin/napi-v6');
    expect(readdirSync(ort)).toEqual(['linux']);
    expect(readdirSync(join(ort, 'linux'))).toEqual([process.arch]);
    // What the prune measured (Dockerfile step output), for docs/benchmarks.md.
    for (const image of Object.values(images))
      expect(image.log.join('\n')).toMatch(
        /prune-node-modules (coordinator|worker): kept \d+ packages, removed \d+; node_modules \d+ MB -> \d+ MB/,
      );
  });

  it.skipIf(!gcloud)(
    'the coordinator boots on BigQuery and Firestore, runs every job in BIGQUERY_LOCATION, answers, and exits 0 on SIGTERM',
    async () => {
      const before = bigquery.insertedJobs().length;
      const c = await bootService(
        images.coordinator.dir,
        'coordinator',
        {
          ...images.coordinator.env,
          ...google(),
          K_SERVICE: 'prediction-coordinator-prod',
          FIRESTORE_EMULATOR_HOST: emulators?.firestore ?? '',
          PUBSUB_EMULATOR_HOST: emulators?.pubsub ?? '',
          TOPIC_SUFFIX: '-prod',
          COORDINATOR_API_KEY: KEY,
          PUSH_AUTH: 'oidc',
          PUSH_AUTH_AUDIENCE: 'https://prediction-coordinator-prod-1.us-west2.run.app',
          PUSH_AUTH_SERVICE_ACCOUNTS: PUSHER,
        },
        { cmd: images.coordinator.cmd },
      );
      expect((await fetch(`${c.url}/health`)).status).toBe(200);
      expect((await fetch(`${c.url}/status`)).status).toBe(401);
      expect((await fetch(`${c.url}/status`, { headers: { 'x-api-key': KEY } })).status).toBe(200);
      const start = await fetch(`${c.url}/start`, {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ game_date: TEST_TODAY }),
      });
      // The fake warehouse holds no schedule: the date has no games.
      expect({ status: start.status, body: await start.json() }).toMatchObject({ status: 200, body: { status: 'no_games_scheduled' } });
      const jobs = bigquery.insertedJobs().slice(before);
      expect(jobs.length).toBeGreaterThan(0);
      for (const job of jobs) expect(job.jobReference.location).toBe('EU');
      expect(metadata.tokensIssued()).toBeGreaterThan(0);
      expect(await c.stop()).toBe(0);
      expect(c.logs()).toContain('shutdown complete');
      expect(c.logs()).not.toContain(KEY);
    },
    180_000,
  );

  it('the worker boots on BigQuery, loads the registry’s models with onnxruntime, is ready, and exits 0 on SIGTERM', async () => {
    registryAnswers(registryRows);
    const w = await bootService(images.worker.dir, 'worker', workerEnv(), { cmd: images.worker.cmd });
    const models = (await (await fetch(`${w.url}/models`)).json()) as { ready?: boolean; loaded?: Array<{ system_id: string }> };
    expect(models.ready).toBe(true);
    expect(models.loaded?.map((m) => m.system_id)).toContain('catboost_v9_tiny');
    const registryJob = bigquery.insertedJobs().find((j) => j.configuration.query.query.includes('model_registry'));
    expect(registryJob?.jobReference.location).toBe('EU');
    expect(await w.stop()).toBe(0);
    expect(w.logs()).toContain('shutdown complete');
  }, 180_000);

  it('a programmer error that escapes every handler is logged with its stack (Error Reporting) and ends the process', async () => {
    // The same process-level handlers main.ts installs, in a process of the built image that then throws unhandled.
    const probe = join(images.coordinator.dir, 'dist', 'probe.mjs');
    writeFileSync(
      probe,
      [
        "import { createLogger } from './shared/logging/logger.js';",
        "import { installProcessHandlers } from './shared/http/serve.js';",
        "installProcessHandlers(createLogger({ service: 'probe', level: 'info' }), 'probe');",
        "setTimeout(() => Promise.reject(new RangeError('a bug nobody caught')), 10);",
        'setTimeout(() => {}, 5000);',
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, [probe], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(1);
    const reported = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['@type'] === 'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent');
    expect(reported).toMatchObject({ severity: 'ERROR', event: 'unhandledRejection', serviceContext: { service: 'probe' } });
    expect(String(reported?.message)).toMatch(/^RangeError: a bug nobody caught\n\s+at /);
    expect(r.stderr).toContain('"severity":"CRITICAL"');
  }, 180_000);

  it('a worker on the embedded default without the host that holds the warehouse refuses to start, saying what to set', async () => {
    await expect(
      bootService(images.worker.dir, 'worker', { ...workerEnv(), WAREHOUSE: 'duckdb' }, { cmd: images.worker.cmd }),
    ).rejects.toThrow(/needs EMBEDDED_HOST_URL/);
  }, 180_000);

  it('a worker whose champion does not load stops at boot naming it and why, so its revision never becomes ready', async () => {
    registryAnswers(registryRows.map((r) => (r.is_production === true ? { ...r, gcs_path: 'missing/champion.onnx' } : r)));
    const refused = await bootService(images.worker.dir, 'worker', workerEnv(), { cmd: images.worker.cmd }).then(
      () => new Error('the worker started'),
      (e: unknown) => e as Error,
    );
    expect(refused.message).toMatch(/^worker exited with 1 /);
    expect(refused.message).toMatch(/model \S+ refused: .*missing\/champion\.onnx/);
    expect(refused.message).toMatch(/worker failed to start: not serving: champion \S+ did not load: /);
  }, 180_000);

  it('an image asked for the embedded warehouse stops at boot saying DuckDB is not there', async () => {
    const env = {
      ...images.coordinator.env,
      WAREHOUSE: 'duckdb',
      BUS: 'local',
      BATCH_STORE: 'local',
      COORDINATOR_API_KEY: KEY,
      PUSH_AUTH: 'disabled',
    };
    await expect(bootService(images.coordinator.dir, 'coordinator', env, { cmd: images.coordinator.cmd })).rejects.toThrow(
      /exited with 1 .*coordinator failed to start: .*@duckdb\/node-api/s,
    );
  }, 180_000);
});

function workerEnv(): Record<string, string> {
  return {
    ...images.worker.env,
    ...google(),
    K_SERVICE: 'prediction-worker-prod',
    MODEL_STORE_ROOT: world.modelsDir,
    PUSH_AUTH: 'iam',
    PUSH_AUTH_AUDIENCE: 'https://prediction-worker-prod-1.us-west2.run.app',
    PUSH_AUTH_SERVICE_ACCOUNTS: PUSHER,
  };
}

it('leaves no stage outside its temporary directory', () => {
  expect(existsSync(join(repoRoot, 'stage-prod-deps'))).toBe(false);
});
