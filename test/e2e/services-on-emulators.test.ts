/**
 * The composition roots on the Google adapters: both services started as processes (`node dist/services/<svc>/main.js`)
 * and configured only by environment — GCP_PROJECT_ID with the emulator hosts selects Pub/Sub and Firestore — with the
 * product's push subscriptions (shared/embedded/topology.ts) POSTing to their real routes. The warehouse is the embedded
 * DuckDB file, which one process may open: the coordinator's process hosts it and the worker reaches it there
 * (EMBEDDED_HOST_URL), as it would reach BigQuery. This checks the message and state flow across processes: requests
 * pushed to the worker, completions pushed back, the batch counted in Firestore, consolidated by its own step, announced.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PubSub } from '@google-cloud/pubsub';
import { Firestore } from '@google-cloud/firestore';
import { topicNames } from '../../shared/config/common.js';
import { pushSubscriptions } from '../../shared/embedded/topology.js';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { createTinyWorld } from '../helpers/tiny-world.js';
import { sharedEmulators } from '../helpers/shared-emulators.js';
import { bootService, buildDist, repoRoot, type ServiceProcess } from '../helpers/service-process.js';
import { TEST_TODAY } from '../helpers/clock.js';

const emulators = sharedEmulators();
const today = TEST_TODAY;
const PLAYERS = 6;
const KEY = 'services-on-emulators-key-0123456789';

describe.skipIf(!emulators)('both services as processes on the Pub/Sub and Firestore emulators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svc-emulators-'));
  let coordinator: ServiceProcess | undefined;
  let worker: ServiceProcess | undefined;
  let pubsub: PubSub;
  const phase5: Array<Record<string, unknown>> = [];
  const closers: Array<() => Promise<void>> = [];
  const root = `boot/${randomUUID()}`;
  const db = join(dir, 'warehouse.duckdb');

  beforeAll(async () => {
    buildDist(dir);
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const { pubsub: psHost, firestore: fsHost } = emulators as NonNullable<typeof emulators>;
    const world = await createTinyWorld({ gameDate: today, players: PLAYERS, models: 2, path: db });
    await world.warehouse.close();

    const google = {
      GCP_PROJECT_ID: 'demo-services',
      WAREHOUSE: 'duckdb',
      PUBSUB_EMULATOR_HOST: psHost,
      FIRESTORE_EMULATOR_HOST: fsHost,
      PUSH_AUTH: 'disabled',
      FIRESTORE_ROOT: root,
    };
    pubsub = new PubSub({ projectId: 'demo-services', apiEndpoint: psHost });
    const topics = topicNames('');
    const subscriptions = pushSubscriptions(topics);
    for (const name of new Set([...subscriptions.map((sub) => sub.topic), topics.phase5])) await pubsub.createTopic(name);

    coordinator = await bootService(dir, 'coordinator', { ...google, DUCKDB_PATH: db, COORDINATOR_API_KEY: KEY });
    worker = await bootService(dir, 'worker', { ...google, EMBEDDED_HOST_URL: coordinator.url, MODEL_STORE_ROOT: world.modelsDir });
    for (const sub of subscriptions) {
      const base = sub.service === 'worker' ? worker.url : coordinator.url;
      await pubsub
        .topic(sub.topic)
        .createSubscription(sub.name, { pushConfig: { pushEndpoint: `${base}${sub.path}` }, ackDeadlineSeconds: 60 });
    }
    const [audit] = await pubsub.topic(topics.phase5).createSubscription('phase5-audit');
    audit.on('message', (m: { data: Buffer; ack(): void }) => {
      phase5.push(JSON.parse(m.data.toString('utf8')) as Record<string, unknown>);
      m.ack();
    });
    closers.push(() => audit.close());
  }, 180_000);

  afterAll(async () => {
    for (const close of closers) await close();
    await coordinator?.stop();
    await worker?.stop();
    await pubsub?.close();
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

    let status: {
      status?: string;
      closed?: boolean;
      progress?: { completed?: number; expected?: number };
      consolidation?: { merge?: { rows_accounted?: number } };
    } = {};
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      status = (await (await fetch(`${c.url}/status?batch_id=${started.batch_id}`, { headers })).json()) as typeof status;
      if (status.closed === true) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toMatchObject({
      status: 'complete',
      progress: { expected: PLAYERS, completed: PLAYERS },
      consolidation: { merge: { rows_accounted: PLAYERS * 2 } },
    });

    // The batch lives in Firestore, where any coordinator instance would find it.
    const firestore = new Firestore({ projectId: 'demo-services', host: emulators?.firestore, ssl: false });
    const doc = await firestore.doc(`${root}/batches/${started.batch_id}`).get();
    await firestore.terminate();
    expect(doc.exists).toBe(true);
    expect(JSON.parse(String(doc.get('record_json')))).toMatchObject({ state: 'complete', completed: PLAYERS });
    const deadline5 = Date.now() + 60_000;
    while (phase5.length === 0 && Date.now() < deadline5) await new Promise((r) => setTimeout(r, 100));
    expect(phase5).toMatchObject([{ execution_id: started.batch_id, status: 'success' }]);

    // The worker wrote its predictions through the coordinator's process: one active row per player and model.
    expect(await w.stop()).toBe(0);
    expect(w.logs()).toContain('shutdown complete');
    expect(await c.stop()).toBe(0);
    const wh = await DuckDbWarehouse.open({ path: db });
    const rows = await wh.query({
      name: 'merged',
      sql: `SELECT DISTINCT player_lookup, system_id FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = '${today}' AND is_active`,
    });
    await wh.close();
    expect(rows).toHaveLength(PLAYERS * 2);
  }, 180_000);
});
