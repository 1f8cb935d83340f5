/**
 * The composition roots on the Google adapters: both services started as processes (`node dist/services/<svc>/main.js`)
 * and configured only by environment — GCP_PROJECT_ID with the emulator hosts selects Pub/Sub and Firestore — with push
 * subscriptions POSTing to their real /predict and /complete. Each process has its own DuckDB file (DuckDB allows one
 * writer per file; in production both share BigQuery), so this checks the message and state flow across processes:
 * requests pushed to the worker, completions pushed back, the batch counted to its end in Firestore.
 * The merged-predictions path over these adapters is covered in-process by google-emulators-batch.test.ts.
 */
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PubSub } from '@google-cloud/pubsub';
import { Firestore } from '@google-cloud/firestore';
import { etDate } from '../../shared/dates/game-date.js';
import { topicNames } from '../../shared/config/common.js';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { createTinyWorld } from '../helpers/tiny-world.js';
import { skipWithoutGcloud, startEmulator, type RunningEmulator } from '../helpers/gcloud-emulators.js';
import { bootService, buildDist, repoRoot, type ServiceProcess } from '../helpers/service-process.js';

const skip = skipWithoutGcloud();
const today = etDate(new Date());
const PLAYERS = 6;
const KEY = 'services-on-emulators-key-0123456789';

describe.skipIf(skip)('both services as processes on the Pub/Sub and Firestore emulators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svc-emulators-'));
  let emulators: RunningEmulator[] = [];
  let coordinator: ServiceProcess | undefined;
  let worker: ServiceProcess | undefined;
  let pubsub: PubSub;
  const root = `boot/${randomUUID()}`;
  const workerDb = join(dir, 'worker.duckdb');

  beforeAll(async () => {
    buildDist(dir);
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    emulators = await Promise.all([startEmulator('pubsub'), startEmulator('firestore')]);
    const [ps, fs] = emulators as [RunningEmulator, RunningEmulator];
    const world = await createTinyWorld({ gameDate: today, players: PLAYERS, models: 2, path: join(dir, 'coordinator.duckdb') });
    await world.warehouse.close();
    copyFileSync(join(dir, 'coordinator.duckdb'), workerDb);

    const google = { GCP_PROJECT_ID: 'demo-services', WAREHOUSE: 'duckdb', PUBSUB_EMULATOR_HOST: ps.host, FIRESTORE_EMULATOR_HOST: fs.host, PUSH_AUTH: 'disabled' };
    pubsub = new PubSub({ projectId: 'demo-services', apiEndpoint: ps.host });
    const topics = topicNames('');
    const [request] = await pubsub.createTopic(topics.request);
    const [ready] = await pubsub.createTopic(topics.ready);
    await pubsub.createTopic(topics.phase5);

    worker = await bootService(dir, 'worker', { ...google, DUCKDB_PATH: workerDb, MODEL_STORE_ROOT: world.modelsDir });
    coordinator = await bootService(dir, 'coordinator', { ...google, DUCKDB_PATH: join(dir, 'coordinator.duckdb'), COORDINATOR_API_KEY: KEY, FIRESTORE_ROOT: root });
    await request.createSubscription(`${topics.request}-push`, { pushConfig: { pushEndpoint: `${worker.url}/predict` }, ackDeadlineSeconds: 60 });
    await ready.createSubscription(`${topics.ready}-push`, { pushConfig: { pushEndpoint: `${coordinator.url}/complete` }, ackDeadlineSeconds: 60 });
  }, 180_000);

  afterAll(async () => {
    await coordinator?.stop();
    await worker?.stop();
    await pubsub?.close();
    await Promise.all(emulators.map((e) => e.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('selects the Google adapters from GCP_PROJECT_ID and runs a batch to its end across processes', async () => {
    const c = coordinator as ServiceProcess;
    const w = worker as ServiceProcess;
    expect(c.logs()).toMatch(/"bus":"pubsub"[^\n]*"batch_store":"firestore"|"batch_store":"firestore"[^\n]*"bus":"pubsub"/);
    expect(w.logs()).toContain('"bus":"pubsub"');

    const headers = { 'content-type': 'application/json', 'x-api-key': KEY };
    const start = await fetch(`${c.url}/start`, { method: 'POST', headers, body: JSON.stringify({ game_date: today }) });
    const started = (await start.json()) as { batch_id: string; published: number };
    expect(start.status).toBe(202);
    expect(started.published).toBe(PLAYERS);

    let status: { status?: string; progress?: { completed?: number; expected?: number } } = {};
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      status = (await (await fetch(`${c.url}/status?batch_id=${started.batch_id}`, { headers })).json()) as typeof status;
      if (status.status !== undefined && ['complete', 'partial', 'failed'].includes(status.status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status.progress).toMatchObject({ expected: PLAYERS, completed: PLAYERS });

    // The batch lives in Firestore, where any coordinator instance would find it.
    const db = new Firestore({ projectId: 'demo-services', host: (emulators[1] as RunningEmulator).host, ssl: false });
    const doc = await db.doc(`${root}/batches/${started.batch_id}`).get();
    await db.terminate();
    expect(doc.exists).toBe(true);
    expect(doc.get('completed')).toBe(PLAYERS);

    // The worker wrote its predictions to its own warehouse, one row per player and model.
    expect(await w.stop()).toBe(0);
    expect(w.logs()).toContain('shutdown complete');
    const wh = await DuckDbWarehouse.open({ path: workerDb });
    const rows = await wh.query({ name: 'staging', sql: 'SELECT DISTINCT player_lookup FROM {{nba_predictions.prediction_staging}}' });
    await wh.close();
    expect(rows).toHaveLength(PLAYERS);
    expect(await c.stop()).toBe(0);
  }, 120_000);
});
