/** The Pub/Sub bus against Google's emulator (skipped, with a message, without gcloud). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { PubSubBus } from '../../shared/adapters/pubsub/pubsub-bus.js';
import { sharedEmulators } from '../helpers/shared-emulators.js';

const emulators = sharedEmulators();
const PROJECT = 'demo-bus';

describe.skipIf(!emulators)('pubsub bus on the emulator', () => {
  let client: PubSub;
  let topicCount = 0;

  beforeAll(async () => {
    client = new PubSub({ projectId: PROJECT, apiEndpoint: emulators?.pubsub });
  });

  afterAll(async () => {
    await client?.close();
  });

  /** A fresh topic with a pull subscription that collects what arrives. */
  async function topicWithReader(): Promise<{
    name: string;
    received: Message[];
    waitFor(n: number): Promise<Message[]>;
    close(): Promise<void>;
  }> {
    const name = `topic-${++topicCount}`;
    const [topic] = await client.createTopic(name);
    const [subscription] = await topic.createSubscription(`${name}-pull`);
    const received: Message[] = [];
    subscription.on('message', (m: Message) => {
      received.push(m);
      m.ack();
    });
    return {
      name,
      received,
      async waitFor(n) {
        const deadline = Date.now() + 60_000;
        while (received.length < n) {
          if (Date.now() > deadline) throw new Error(`received ${received.length} of ${n} messages on ${name}`);
          await new Promise((r) => setTimeout(r, 25));
        }
        return received;
      },
      close: () => subscription.close(),
    };
  }

  it('publishes JSON with attributes, one outcome per message in order, read back through a pull subscription', async () => {
    const reader = await topicWithReader();
    const bus = new PubSubBus({ client, closeClient: false });
    const messages = Array.from({ length: 12 }, (_, i) => ({
      data: { player_lookup: `p${i}`, n: i, nested: { ok: true } },
      attributes: { batch_id: 'b1', game_date: '2026-11-22', seq: String(i) },
    }));
    const outcomes = await bus.publish(reader.name, messages);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const ids = outcomes.map((o) => (o.ok ? o.messageId : ''));
    expect(new Set(ids).size).toBe(12);

    const byId = new Map((await reader.waitFor(12)).map((m) => [m.id, m]));
    ids.forEach((id, i) => {
      const m = byId.get(id);
      expect(JSON.parse(m?.data.toString('utf8') ?? 'null')).toEqual(messages[i]?.data);
      expect(m?.attributes).toEqual(messages[i]?.attributes);
    });
    await reader.close();
    await bus.close();
  });

  it('a failure surfaces per message and never throws: a missing topic fails every message, naming the topic', async () => {
    const bus = new PubSubBus({ client, closeClient: false });
    const outcomes = await bus.publish('no-such-topic', [{ data: { a: 1 } }, { data: { a: 2 }, attributes: { k: 'v' } }]);
    expect(outcomes).toHaveLength(2);
    for (const o of outcomes) {
      expect(o.ok).toBe(false);
      if (!o.ok) expect(o.error).toMatch(/no-such-topic.*NOT_FOUND/);
    }
    await bus.close();
  });

  it('one bad message fails alone: the others in the same call are published', async () => {
    const reader = await topicWithReader();
    const bus = new PubSubBus({ client, closeClient: false });
    const outcomes = await bus.publish(reader.name, [{ data: { a: 1 } }, { data: { big: 1n } }, { data: undefined }, { data: { a: 4 } }]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false, true]);
    expect(outcomes[1]).toMatchObject({ ok: false, error: expect.stringContaining('BigInt') });
    expect(outcomes[2]).toMatchObject({ ok: false, error: expect.stringContaining('not JSON-serialisable') });
    expect((await reader.waitFor(2)).map((m) => JSON.parse(m.data.toString('utf8')) as unknown)).toEqual(
      expect.arrayContaining([{ a: 1 }, { a: 4 }]),
    );
    await reader.close();
    await bus.close();
  });

  it('close flushes messages still held by batching, then refuses new publishes', async () => {
    const reader = await topicWithReader();
    // A batch window far longer than the test: only the flush in close() can send these.
    const bus = new PubSubBus({ client, closeClient: false, batching: { maxMessages: 1000, maxMilliseconds: 600_000 } });
    const pending = bus.publish(reader.name, [{ data: { n: 1 } }, { data: { n: 2 } }, { data: { n: 3 } }]);
    await bus.close();
    expect((await pending).every((o) => o.ok)).toBe(true);
    await reader.waitFor(3);
    expect(await bus.publish(reader.name, [{ data: { n: 4 } }])).toEqual([
      { ok: false, error: `publish to ${reader.name} refused: pubsub bus closed`, retryable: true },
    ]);
    await reader.close();
  });

  it('with publisher flow control of one message at a time every message still goes, in order', async () => {
    const reader = await topicWithReader();
    const bus = new PubSubBus({ client, closeClient: false, flowControl: { maxOutstandingMessages: 1 }, batching: { maxMilliseconds: 1 } });
    const outcomes = await bus.publish(
      reader.name,
      Array.from({ length: 5 }, (_, i) => ({ data: { i } })),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const byId = new Map((await reader.waitFor(5)).map((m) => [m.id, JSON.parse(m.data.toString('utf8')) as unknown]));
    expect(outcomes.map((o) => (o.ok ? byId.get(o.messageId) : null))).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    await reader.close();
    await bus.close();
  });
});
