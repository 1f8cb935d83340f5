/**
 * A whole batch over Google's emulators: the Pub/Sub bus publishing to real topics whose PUSH subscriptions POST to the
 * worker's /predict and the coordinator's /complete over HTTP (as Cloud Run push does), and the Firestore batch store.
 * Skipped, with a message, where gcloud is not installed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { Firestore } from '@google-cloud/firestore';
import { PubSubBus } from '../../shared/adapters/pubsub/pubsub-bus.js';
import { FirestoreBatchStore } from '../../shared/adapters/firestore/firestore-batch-store.js';
import { startLocalStack, type LocalStack } from '../../bin/local-stack.js';
import { pushSubscriptions } from '../../shared/embedded/topology.js';
import { createTinyWorld, type TinyWorld } from '../helpers/tiny-world.js';
import { API_KEY, silentLogger } from '../helpers/stack.js';
import { sharedEmulators } from '../helpers/shared-emulators.js';
import { TEST_TODAY, testClock } from '../helpers/clock.js';

const emulators = sharedEmulators();
const today = TEST_TODAY;
const PLAYERS = 12;

describe.skipIf(!emulators)('a batch over the Pub/Sub and Firestore emulators', () => {
  let pubsub: PubSub;
  let db: Firestore;
  let world: TinyWorld;
  let stack: LocalStack;
  let buses: PubSubBus[] = [];
  const requests: Message[] = [];
  const phase5: Message[] = [];
  const pulls: Array<{ close(): Promise<void> }> = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.coordinatorUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    pubsub = new PubSub({ projectId: 'demo-e2e', apiEndpoint: emulators?.pubsub });
    db = new Firestore({ projectId: 'demo-e2e', host: emulators?.firestore, ssl: false });
    world = await createTinyWorld({ gameDate: today, players: PLAYERS, models: 2 });
    buses = [new PubSubBus({ client: pubsub, closeClient: false }), new PubSubBus({ client: pubsub, closeClient: false })];
    const clock = testClock();
    stack = await startLocalStack({
      clock,
      duckdb: world.warehouse,
      modelsDir: world.modelsDir,
      apiKey: API_KEY,
      logger: silentLogger,
      coordinatorBus: buses[0],
      workerBus: buses[1],
      batchStore: new FirestoreBatchStore({ db, rootPath: `e2e/${randomUUID()}`, clock }),
    });
    // The product's push topology, as setup creates it (shared/embedded/topology.ts): every topic and dead-letter topic.
    const subscriptions = pushSubscriptions(stack.topics);
    for (const name of new Set([...subscriptions.map((sub) => sub.topic), stack.topics.phase5])) await pubsub.createTopic(name);
    for (const sub of subscriptions) {
      const base = sub.service === 'worker' ? stack.workerUrl : stack.coordinatorUrl;
      await pubsub.topic(sub.topic).createSubscription(sub.name, {
        pushConfig: { pushEndpoint: `${base}${sub.path}` },
        ackDeadlineSeconds: 60,
        ...(sub.deadLetterTopic
          ? { deadLetterPolicy: { deadLetterTopic: pubsub.topic(sub.deadLetterTopic).name, maxDeliveryAttempts: 15 } }
          : {}),
      });
    }
    const requestTopic = pubsub.topic(stack.topics.request);
    const phase5TopicHandle = pubsub.topic(stack.topics.phase5);
    for (const [topic, sink] of [
      [requestTopic, requests],
      [phase5TopicHandle, phase5],
    ] as const) {
      const [sub] = await topic.createSubscription(`${topic.name.split('/').pop() ?? 'topic'}-audit`);
      sub.on('message', (m: Message) => {
        sink.push(m);
        m.ack();
      });
      pulls.push(sub);
    }
  });

  afterAll(async () => {
    await Promise.all(pulls.map((p) => p.close()));
    await stack?.close();
    for (const bus of buses) await bus.close();
    await pubsub?.close();
    await db?.terminate();
    await world?.warehouse.close();
  });

  it('POST /start runs to a consolidated batch: completions counted in Firestore, predictions merged, phase 5 announced', async () => {
    const start = await api('POST', '/start', { game_date: today });
    expect(start.status).toBe(202);
    const batchId = String(start.body.batch_id);
    const published = Number(start.body.published);
    expect(published).toBe(PLAYERS);

    const deadline = Date.now() + 60_000;
    let status: Record<string, unknown>;
    for (;;) {
      status = (await api('GET', `/status?batch_id=${batchId}`)).body;
      // The record is final once the batch is closed (its phase-5 message published, its run-history row written).
      if (status.closed === true && phase5.length > 0) break;
      if (Date.now() > deadline) throw new Error(`batch ${batchId} did not end over the emulators: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    expect(status).toMatchObject({ status: 'complete', progress: { expected: PLAYERS, completed: PLAYERS } });
    expect(status.consolidation).toMatchObject({
      duplicate_active_keys: 0,
      verify: { missing_rows: 0 },
      merge: { rows_accounted: PLAYERS * world.systems.length },
    });
    expect(status.closing).toMatchObject({ phase5_status: 'success', phase5_error: null });
    expect(await stack.batches.getBatch(batchId)).toMatchObject({ state: 'complete', expected: PLAYERS, completed: PLAYERS });

    const rows = await world.warehouse.query({
      name: 'rows',
      sql: `SELECT player_lookup, system_id FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = '${today}' AND is_active`,
    });
    expect(rows).toHaveLength(PLAYERS * world.systems.length);
    expect(new Set(rows.map((r) => r.player_lookup))).toEqual(new Set(world.players));

    // Several players per message: every player in some request message.
    const requested = new Set(
      requests.flatMap((m) =>
        (JSON.parse(m.data.toString('utf8')) as { players: Array<{ player_lookup: string }> }).players.map((p) => p.player_lookup),
      ),
    );
    expect(requested).toEqual(new Set(world.players));
    expect(requests.every((m) => m.attributes.batch_id === batchId && m.attributes.game_date === today)).toBe(true);
    expect(phase5).toHaveLength(1);
    expect(phase5[0]?.id).toBe((status.closing as Record<string, unknown>).phase5_message_id);
    expect(phase5[0]?.attributes).toEqual({ batch_id: batchId, game_date: today, status: 'success' });
    expect(JSON.parse(phase5[0]?.data.toString('utf8') ?? 'null')).toMatchObject({
      execution_id: batchId,
      status: 'success',
      record_count: PLAYERS,
      game_date: today,
    });
  });
});
