import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { PushEnvelope } from '../../shared/ports/bus.js';
import { LocalBus, computeBackoffMs, type LocalSubscriptionConfig } from '../../shared/adapters/local-bus/local-bus.js';

interface Received {
  envelope: PushEnvelope;
  contentType: string | undefined;
  path: string | undefined;
}

interface PushServer {
  endpoint: string;
  received: Received[];
  maxConcurrent: number;
  close(): Promise<void>;
}

type Reply = (req: Received, res: ServerResponse, index: number) => void;

/** A real HTTP push endpoint on 127.0.0.1:0 that records every envelope and answers through `reply`. */
async function startPushServer(reply: Reply): Promise<PushServer> {
  const received: Received[] = [];
  let concurrent = 0;
  const state = { maxConcurrent: 0 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    concurrent++;
    state.maxConcurrent = Math.max(state.maxConcurrent, concurrent);
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        concurrent--;
      }
    };
    res.on('finish', finish);
    res.on('close', finish);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        envelope: JSON.parse(Buffer.concat(chunks).toString('utf8')) as PushEnvelope,
        contentType: req.headers['content-type'],
        path: req.url,
      };
      received.push(r);
      reply(r, res, received.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/push`,
    received,
    get maxConcurrent() {
      return state.maxConcurrent;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const status =
  (code: number): Reply =>
  (_req, res) => {
    res.statusCode = code;
    res.end();
  };

const decode = (envelope: PushEnvelope): unknown => JSON.parse(Buffer.from(envelope.message.data, 'base64').toString('utf8'));

const fast = (
  over: Partial<LocalSubscriptionConfig> & Pick<LocalSubscriptionConfig, 'name' | 'topic' | 'pushEndpoint'>,
): LocalSubscriptionConfig => ({
  minBackoffMs: 1,
  maxBackoffMs: 5,
  ackDeadlineMs: 5_000,
  ...over,
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** `closeTimeoutMs` is short so a test's cleanup does not wait on a push nobody answers; a test that closes the bus itself
 * and needs the in-flight push to finish gives a bound no machine reaches. */
async function setup(reply: Reply, closeTimeoutMs = 100): Promise<{ bus: LocalBus; server: PushServer }> {
  const server = await startPushServer(reply);
  const bus = new LocalBus({ logger: pino({ level: 'silent' }), closeTimeoutMs });
  cleanups.push(() => server.close());
  cleanups.push(() => bus.close());
  return { bus, server };
}

describe('LocalBus', () => {
  it('when the endpoint answers 204, then the message is acked once with a Pub/Sub wrapped envelope', async () => {
    const { bus, server } = await setup(status(204));
    bus.subscribe(fast({ name: 'preds', topic: 't', pushEndpoint: server.endpoint }));

    const [outcome] = await bus.publish('t', [{ data: { a: 1 } }]);
    await bus.idle();

    expect(outcome).toMatchObject({ ok: true });
    const messageId = outcome?.ok ? outcome.messageId : 'missing';
    expect(server.received).toHaveLength(1);
    const got = server.received[0];
    expect(got?.contentType).toBe('application/json');
    expect(got?.path).toBe('/push');
    expect(got?.envelope.subscription).toBe('projects/local/subscriptions/preds');
    expect(got?.envelope.message.messageId).toBe(messageId);
    expect(got?.envelope.message.message_id).toBe(messageId);
    expect(got?.envelope.message.publish_time).toBe(got?.envelope.message.publishTime);
    expect(Number.isNaN(Date.parse(got?.envelope.message.publishTime ?? ''))).toBe(false);
    expect(got?.envelope).not.toHaveProperty('deliveryAttempt');
    expect(bus.stats()['preds']).toEqual({ delivered: 1, acked: 1, nacked: 0, deadLettered: 0, inFlight: 0, queued: 0, waitingRetry: 0 });
  });

  it('when a message is published, then the envelope data decodes to the published JSON and its attributes arrive', async () => {
    const { bus, server } = await setup(status(200));
    bus.subscribe(fast({ name: 's', topic: 't', pushEndpoint: server.endpoint }));
    const data = { batchId: 'b-1', shard: 3, players: ['a', 'b'], nested: { x: null, y: 1.5 }, when: new Date('2025-01-02T03:04:05Z') };

    await bus.publish('t', [{ data, attributes: { batchId: 'b-1', kind: 'shard' } }]);
    await bus.idle();

    const env = server.received[0]?.envelope;
    expect(decode(env!)).toEqual({ ...data, when: '2025-01-02T03:04:05.000Z' });
    expect(env?.message.attributes).toEqual({ batchId: 'b-1', kind: 'shard' });
    expect(bus.published('t')[0]).toMatchObject({
      data: { ...data, when: '2025-01-02T03:04:05.000Z' },
      attributes: { batchId: 'b-1', kind: 'shard' },
    });
  });

  it('when the endpoint answers 500 twice, then the message is redelivered with an increasing deliveryAttempt and acked', async () => {
    const { bus, server } = await setup((_r, res, i) => {
      res.statusCode = i < 2 ? 500 : 204;
      res.end(i < 2 ? 'boom' : undefined);
    });
    bus.subscribe(fast({ name: 's', topic: 't', pushEndpoint: server.endpoint, deadLetterTopic: 'dlq' }));

    await bus.publish('t', [{ data: { n: 1 } }]);
    await bus.idle();

    expect(server.received.map((r) => r.envelope.deliveryAttempt)).toEqual([1, 2, 3]);
    expect(new Set(server.received.map((r) => r.envelope.message.messageId)).size).toBe(1);
    expect(bus.stats()['s']).toMatchObject({ delivered: 3, nacked: 2, acked: 1, deadLettered: 0 });
    expect(bus.published('dlq')).toEqual([]);
  });

  it('when the endpoint does not answer within the ack deadline, then it counts as a nack and is redelivered', async () => {
    const { bus, server } = await setup((_r, res, i) => {
      if (i === 0) return; // never answers
      res.statusCode = 204;
      res.end();
    });
    bus.subscribe(fast({ name: 's', topic: 't', pushEndpoint: server.endpoint, ackDeadlineMs: 200 }));

    await bus.publish('t', [{ data: 'slow' }]);
    await bus.idle();

    // The first push is never answered, so only its deadline can end it: a nack, then a redelivery of the same message.
    // On a busy machine a later push can miss a deadline this short too (even before the server reads it) and be
    // redelivered once more, so the number of deliveries is not fixed: every one but the last is a nack, the last the ack.
    const received = server.received;
    expect(received.length).toBeGreaterThanOrEqual(2);
    expect(new Set(received.map((r) => r.envelope.message.messageId)).size).toBe(1);
    const stats = bus.stats()['s'];
    expect(stats?.delivered).toBeGreaterThanOrEqual(received.length);
    expect(stats).toMatchObject({ nacked: (stats?.delivered ?? 0) - 1, acked: 1, deadLettered: 0 });
  });

  it('when every attempt fails, then after maxDeliveryAttempts the message lands in the dead-letter topic and deadLettered()', async () => {
    const { bus, server } = await setup((_r, res) => {
      res.statusCode = 503;
      res.end('unavailable');
    });
    bus.subscribe(fast({ name: 'work', topic: 't', pushEndpoint: server.endpoint, maxDeliveryAttempts: 3, deadLetterTopic: 'work-dlq' }));
    const dlqSeen: string[] = [];
    bus.onPublish('work-dlq', (m) => dlqSeen.push(m.messageId));

    const [outcome] = await bus.publish('t', [{ data: { id: 7 }, attributes: { batchId: 'b' } }]);
    await bus.idle();

    const original = bus.published('t')[0]!;
    expect(server.received).toHaveLength(3);
    expect(server.received.map((r) => r.envelope.deliveryAttempt)).toEqual([1, 2, 3]);
    const dlq = bus.published('work-dlq');
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.data).toEqual({ id: 7 });
    expect(dlq[0]?.attributes).toMatchObject({
      batchId: 'b',
      CloudPubSubDeadLetterSourceSubscription: 'work',
      CloudPubSubDeadLetterSourceSubscriptionProject: 'local',
      CloudPubSubDeadLetterSourceDeliveryCount: '3',
      CloudPubSubDeadLetterSourceTopicPublishTime: original.publishTime,
    });
    expect(dlq[0]?.attributes['CloudPubSubDeadLetterSourceDeliveryErrorMessage']).toContain('503');
    expect(dlqSeen).toEqual([dlq[0]?.messageId]);
    const dead = bus.deadLettered('work');
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      messageId: outcome?.ok ? outcome.messageId : 'missing',
      subscription: 'work',
      topic: 't',
      deliveryAttempts: 3,
      deadLetterTopic: 'work-dlq',
      deadLetterMessageId: dlq[0]?.messageId,
    });
    expect(dead[0]?.lastError).toContain('HTTP 503: unavailable');
    expect(bus.stats()['work']).toMatchObject({ delivered: 3, nacked: 3, acked: 0, deadLettered: 1 });
  });

  it('when the dead-letter topic has a subscription, then the dead-lettered copy is pushed to it', async () => {
    const { bus, server } = await setup(status(500));
    const dlqServer = await startPushServer(status(204));
    cleanups.push(() => dlqServer.close());
    bus.subscribe(fast({ name: 'work', topic: 't', pushEndpoint: server.endpoint, maxDeliveryAttempts: 2, deadLetterTopic: 'dlq' }));
    bus.subscribe(fast({ name: 'dlq-sub', topic: 'dlq', pushEndpoint: dlqServer.endpoint }));

    await bus.publish('t', [{ data: { id: 1 } }]);
    await bus.idle();

    expect(dlqServer.received).toHaveLength(1);
    expect(decode(dlqServer.received[0]!.envelope)).toEqual({ id: 1 });
    expect(dlqServer.received[0]?.envelope.message.attributes?.['CloudPubSubDeadLetterSourceSubscription']).toBe('work');
  });

  it('when no dead-letter topic is set, then an exhausted message is still recorded in deadLettered()', async () => {
    const { bus, server } = await setup(status(400));
    bus.subscribe(fast({ name: 's', topic: 't', pushEndpoint: server.endpoint, maxDeliveryAttempts: 2 }));

    await bus.publish('t', [{ data: 1 }]);
    await bus.idle();

    expect(server.received.every((r) => r.envelope.deliveryAttempt === undefined)).toBe(true);
    const dead = bus.deadLettered('s');
    expect(dead).toHaveLength(1);
    expect(dead[0]?.lastError).toContain('HTTP 400');
    expect(dead[0]?.deadLetterTopic).toBeUndefined();
  });

  it('when the endpoint refuses connections, then network errors count as nacks', async () => {
    const server = await startPushServer(status(204));
    const endpoint = server.endpoint;
    await server.close();
    const bus = new LocalBus();
    cleanups.push(() => bus.close());
    bus.subscribe(fast({ name: 's', topic: 't', pushEndpoint: endpoint, maxDeliveryAttempts: 2 }));

    await bus.publish('t', [{ data: 1 }]);
    await bus.idle();

    expect(bus.stats()['s']).toMatchObject({ delivered: 2, nacked: 2, deadLettered: 1 });
    expect(bus.deadLettered('s')[0]?.lastError).toMatch(/fetch failed|ECONNREFUSED/);
  });

  it('when more messages than maxOutstanding are published, then concurrent deliveries never exceed it', async () => {
    const { bus, server } = await setup((_r, res) => {
      setTimeout(() => {
        res.statusCode = 204;
        res.end();
      }, 20);
    });
    bus.subscribe(fast({ name: 's', topic: 't', pushEndpoint: server.endpoint, maxOutstanding: 3 }));

    await bus.publish(
      't',
      Array.from({ length: 30 }, (_, i) => ({ data: i })),
    );
    const early = bus.stats()['s'];
    await bus.idle();

    expect(early).toMatchObject({ inFlight: 3, queued: 27 });
    expect(server.maxConcurrent).toBeLessThanOrEqual(3);
    expect(server.maxConcurrent).toBeGreaterThan(1);
    expect(server.received).toHaveLength(30);
    expect(bus.stats()['s']).toMatchObject({ acked: 30, inFlight: 0, queued: 0 });
  });

  it('when a message is waiting for a retry, then idle() resolves only after the retry is acked', async () => {
    const { bus, server } = await setup((_r, res, i) => {
      res.statusCode = i < 2 ? 503 : 204;
      res.end();
    });
    bus.subscribe(fast({ name: 's', topic: 't', pushEndpoint: server.endpoint, minBackoffMs: 20, maxBackoffMs: 40 }));

    await bus.publish('t', [{ data: 'x' }]);
    await bus.idle();

    expect(bus.stats()['s']).toMatchObject({ acked: 1, nacked: 2, waitingRetry: 0, inFlight: 0, queued: 0 });
  });

  it('when work is still pending at the timeout, then idle() rejects naming the subscription', async () => {
    const { bus, server } = await setup(() => {
      /* never answers */
    });
    bus.subscribe(fast({ name: 'stuck-sub', topic: 't', pushEndpoint: server.endpoint, ackDeadlineMs: 10_000 }));

    await bus.publish('t', [{ data: 1 }]);

    await expect(bus.idle(30)).rejects.toThrow(/not idle after 30 ms.*stuck-sub \(queued 0, inFlight 1/);
  });

  it('when redeliverAll is called, then every acked message is pushed once more with the same id', async () => {
    const { bus, server } = await setup(status(204));
    bus.subscribe(fast({ name: 's', topic: 't', pushEndpoint: server.endpoint }));
    await bus.publish('t', [{ data: 1 }, { data: 2 }, { data: 3 }]);
    await bus.idle();

    const count = bus.redeliverAll('s');
    await bus.idle();

    expect(count).toBe(3);
    const ids = server.received.map((r) => r.envelope.message.messageId);
    expect(ids).toHaveLength(6);
    for (const id of new Set(ids)) expect(ids.filter((x) => x === id)).toHaveLength(2);
    expect(bus.stats()['s']).toMatchObject({ acked: 6 });
    expect(bus.redeliverAll('s')).toBe(3);
    await bus.idle();
  });

  it('when the bus is closed, then later publishes fail per message and the log is unchanged', async () => {
    const { bus, server } = await setup(status(204), 60_000);
    bus.subscribe(fast({ name: 's', topic: 't', pushEndpoint: server.endpoint }));
    await bus.publish('t', [{ data: 1 }]);

    await bus.close();
    const outcomes = await bus.publish('t', [{ data: 2 }, { data: 3 }]);

    expect(outcomes).toEqual([
      { ok: false, error: 'bus closed', retryable: true },
      { ok: false, error: 'bus closed', retryable: true },
    ]);
    expect(bus.published('t')).toHaveLength(1);
    expect(bus.stats()['s']).toMatchObject({ acked: 1, inFlight: 0 }); // close waited for the in-flight delivery
    await expect(bus.idle(10)).resolves.toBeUndefined();
  });

  it('when closing with a delivery that never answers, then close aborts it after closeTimeoutMs', async () => {
    const server = await startPushServer(() => {
      /* never answers */
    });
    cleanups.push(() => server.close());
    const bus = new LocalBus({ closeTimeoutMs: 20 });
    bus.subscribe(fast({ name: 's', topic: 't', pushEndpoint: server.endpoint, ackDeadlineMs: 30_000 }));
    await bus.publish('t', [{ data: 1 }]);

    await bus.close();

    expect(bus.stats()['s']).toMatchObject({ inFlight: 0, nacked: 1, waitingRetry: 0, queued: 0 });
  });

  it('when a pushEndpoint is not loopback, then subscribe throws', () => {
    const bus = new LocalBus();
    cleanups.push(() => bus.close());
    for (const pushEndpoint of [
      'http://10.0.0.1:8080/push',
      'http://example.com/push',
      'http://0.0.0.0:80/',
      'ftp://127.0.0.1/x',
      'not a url',
    ]) {
      expect(() => bus.subscribe({ name: `s-${pushEndpoint}`, topic: 't', pushEndpoint })).toThrow(/pushEndpoint/);
    }
    expect(() => bus.subscribe({ name: 'a', topic: 't', pushEndpoint: 'http://localhost:1/x' })).not.toThrow();
    expect(() => bus.subscribe({ name: 'b', topic: 't', pushEndpoint: 'http://[::1]:1/x' })).not.toThrow();
    expect(() => bus.subscribe({ name: 'a', topic: 't', pushEndpoint: 'http://127.0.0.1:1/x' })).toThrow(/already exists/);
    expect(() => bus.subscribe({ name: 'c', topic: 't', pushEndpoint: 'http://127.0.0.1:1/x', maxOutstanding: 0 })).toThrow(
      /maxOutstanding/,
    );
  });

  it('when a topic has no subscriptions, then publish only logs it, with increasing ids, and onPublish listeners hear it', async () => {
    const bus = new LocalBus();
    cleanups.push(() => bus.close());
    const heard: unknown[] = [];
    const off = bus.onPublish('phase-5', (m) => heard.push(m.data));

    const first = await bus.publish('phase-5', [{ data: { step: 1 } }, { data: { step: 2 } }]);
    off();
    await bus.publish('phase-5', [{ data: { step: 3 } }]);

    const ids = bus.published('phase-5').map((m) => Number(m.messageId));
    expect(first.every((o) => o.ok)).toBe(true);
    expect(ids).toHaveLength(3);
    expect(ids[0]! < ids[1]! && ids[1]! < ids[2]!).toBe(true);
    expect(heard).toEqual([{ step: 1 }, { step: 2 }]);
    expect(bus.published('other')).toEqual([]);
    await expect(bus.idle(10)).resolves.toBeUndefined();
  });

  it('when one message in a batch cannot be serialised, then only that message fails', async () => {
    const bus = new LocalBus();
    cleanups.push(() => bus.close());

    const outcomes = await bus.publish('t', [
      { data: 1 },
      { data: 10n },
      { data: 3, attributes: { k: 5 as unknown as string } },
      { data: 4 },
    ]);

    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false, true]);
    expect(outcomes[1]).toMatchObject({ ok: false, error: expect.stringMatching(/JSON-serialisable/) });
    expect(outcomes[2]).toMatchObject({ ok: false, error: expect.stringMatching(/attribute k/) });
    expect(bus.published('t').map((m) => m.data)).toEqual([1, 4]);
  });

  it('when computing backoff, then it doubles from min, stays within [min, max], and jitters', () => {
    expect(computeBackoffMs(1, 100, 10_000, () => 0.5)).toBe(100);
    expect(computeBackoffMs(2, 100, 10_000, () => 0.5)).toBe(200);
    expect(computeBackoffMs(4, 100, 10_000, () => 0.5)).toBe(800);
    expect(computeBackoffMs(50, 100, 10_000, () => 0.99)).toBe(10_000);
    expect(computeBackoffMs(1, 100, 10_000, () => 0)).toBe(100);
    expect(computeBackoffMs(3, 100, 10_000, () => 0)).toBe(320);
    expect(computeBackoffMs(3, 100, 10_000, () => 0.99)).toBeGreaterThan(400);
  });
});
