/**
 * In-process stand-in for Google Pub/Sub with push subscriptions, over real HTTP on loopback.
 *
 * Same semantics as the real thing where the services can tell: wrapped push envelope, any 2xx acks, anything else (or no
 * answer within the ack deadline) nacks and redelivers with exponential backoff, dead-lettering after maxDeliveryAttempts
 * with Pub/Sub's `CloudPubSubDeadLetterSource*` attributes, at-least-once and unordered delivery, and subscriptions that
 * only see messages published after they were created. With a durable store (bus-store.ts: DuckDB on the embedded
 * default), a message is accepted only once stored, and a message accepted and not yet acked or dead-lettered is delivered
 * again after the process restarts — as Pub/Sub keeps undelivered messages. Extras for tests and the local stack: recent
 * per-topic logs, stats, idle(), redeliverAll() and onPublish().
 */
import type { Bus, OutgoingMessage, PublishOutcome } from '../../ports/bus.js';
import { computeBackoffMs } from './backoff.js';
import { assertLoopbackEndpoint } from './loopback.js';
import { buildEnvelope, pushOnce } from './push.js';
import { MemoryBusStore, type BusStore, type StoredMessage } from './bus-store.js';
import type {
  DeadLetterRecord,
  LocalBusLogger,
  LocalBusOptions,
  LocalSubscriptionConfig,
  PublishedMessage,
  PublishListener,
  SubscriptionStats,
} from './types.js';
import { errorMessage } from '../../errors/error-message.js';

export { computeBackoffMs } from './backoff.js';
export type {
  DeadLetterRecord,
  LocalBusLogger,
  LocalBusOptions,
  LocalSubscriptionConfig,
  PublishedMessage,
  PublishListener,
  SubscriptionStats,
} from './types.js';

export const LOCAL_PROJECT = 'local';
export const BUS_CLOSED = 'bus closed';
/** Pub/Sub's per-message limit. */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

const DEFAULTS = {
  /** Pub/Sub's own default is 5; see docs/operations.md for why this product uses 15. */
  maxDeliveryAttempts: 15,
  minBackoffMs: 100,
  maxBackoffMs: 10_000,
  ackDeadlineMs: 60_000,
  maxOutstanding: 16,
  closeTimeoutMs: 5_000,
  /**
   * Messages kept in memory per topic for published() and per subscription for redeliverAll(): a window for tests and
   * diagnostics (delivery state lives in the store). 100, not 10 000: a prediction request holds up to PLAYERS_PER_MESSAGE
   * players' features (tens of KB), so 10 000 kept the last ≈ 500 batches' requests and the heap grew ≈ 1.3 MB a batch
   * (docs/benchmarks.md, heap).
   */
  logLimit: 100,
} as const;

interface Delivery {
  readonly message: StoredMessage;
  /** Attempts made so far in this delivery cycle. */
  attempts: number;
  lastError?: string;
}

type ResolvedSubscription = Required<Omit<LocalSubscriptionConfig, 'deadLetterTopic'>> & { deadLetterTopic: string | undefined };

interface SubscriptionState {
  readonly config: ResolvedSubscription;
  readonly path: string;
  readonly queue: Delivery[];
  inFlight: number;
  readonly controllers: Set<AbortController>;
  readonly retryTimers: Set<NodeJS.Timeout>;
  /** Recently acked messages, by id (the last `logLimit`): what redeliverAll re-sends. */
  readonly acked: Map<string, StoredMessage>;
  readonly deadLetters: DeadLetterRecord[];
  readonly counts: { delivered: number; acked: number; nacked: number; deadLettered: number };
}

interface IdleWaiter {
  resolve(): void;
  timer: NodeJS.Timeout;
}

const noopLogger: LocalBusLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class LocalBus implements Bus {
  private readonly logger: LocalBusLogger;
  private readonly closeTimeoutMs: number;
  private readonly random: () => number;
  private readonly topics = new Map<string, StoredMessage[]>();
  private readonly subscriptionsByName = new Map<string, SubscriptionState>();
  private readonly subscriptionsByTopic = new Map<string, SubscriptionState[]>();
  private readonly listeners = new Map<string, Set<PublishListener>>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly idleWaiters = new Set<IdleWaiter>();
  private readonly store: BusStore;
  private readonly logLimit: number;
  /** Store work in flight (appends, pending loads): idle() waits for it. */
  private readonly storeWork = new Set<Promise<unknown>>();
  private readonly ready: Promise<void>;
  private nextMessageId = 1;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: LocalBusOptions = {}) {
    this.logger = options.logger ?? noopLogger;
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs;
    this.random = options.random ?? Math.random;
    this.store = options.store ?? new MemoryBusStore();
    this.logLimit = options.logLimit ?? DEFAULTS.logLimit;
    this.ready = this.track(
      this.store.nextMessageNumber().then((n) => {
        this.nextMessageId = Math.max(this.nextMessageId, n);
      }),
    );
  }

  /** Adds a push subscription. Throws on a duplicate name, bad numbers, a non-loopback endpoint, or a closed bus. */
  subscribe(sub: LocalSubscriptionConfig): void {
    if (this.closed) throw new Error(`local bus: cannot subscribe ${sub.name}: ${BUS_CLOSED}`);
    if (!sub.name) throw new Error('local bus: subscription name is required');
    if (!sub.topic) throw new Error(`local bus: subscription ${sub.name} needs a topic`);
    if (this.subscriptionsByName.has(sub.name)) throw new Error(`local bus: subscription ${sub.name} already exists`);
    assertLoopbackEndpoint(sub.pushEndpoint);
    const config: ResolvedSubscription = {
      name: sub.name,
      topic: sub.topic,
      pushEndpoint: sub.pushEndpoint,
      maxDeliveryAttempts: positiveInt(sub, 'maxDeliveryAttempts', sub.maxDeliveryAttempts ?? DEFAULTS.maxDeliveryAttempts),
      deadLetterTopic: sub.deadLetterTopic || undefined,
      minBackoffMs: nonNegative(sub, 'minBackoffMs', sub.minBackoffMs ?? DEFAULTS.minBackoffMs),
      maxBackoffMs: nonNegative(sub, 'maxBackoffMs', sub.maxBackoffMs ?? DEFAULTS.maxBackoffMs),
      ackDeadlineMs: positiveInt(sub, 'ackDeadlineMs', sub.ackDeadlineMs ?? DEFAULTS.ackDeadlineMs),
      maxOutstanding: positiveInt(sub, 'maxOutstanding', sub.maxOutstanding ?? DEFAULTS.maxOutstanding),
    };
    if (config.maxBackoffMs < config.minBackoffMs) {
      throw new Error(`local bus: subscription ${sub.name}: maxBackoffMs (${config.maxBackoffMs}) < minBackoffMs (${config.minBackoffMs})`);
    }
    const state: SubscriptionState = {
      config,
      path: `projects/${LOCAL_PROJECT}/subscriptions/${config.name}`,
      queue: [],
      inFlight: 0,
      controllers: new Set(),
      retryTimers: new Set(),
      acked: new Map(),
      deadLetters: [],
      counts: { delivered: 0, acked: 0, nacked: 0, deadLettered: 0 },
    };
    this.subscriptionsByName.set(config.name, state);
    const forTopic = this.subscriptionsByTopic.get(config.topic) ?? [];
    forTopic.push(state);
    this.subscriptionsByTopic.set(config.topic, forTopic);
    this.logger.info(
      { subscription: config.name, topic: config.topic, pushEndpoint: config.pushEndpoint, deadLetterTopic: config.deadLetterTopic },
      'local bus subscription created',
    );
    // What the store still holds for this subscription (a restart): delivered again, attempts counted on.
    void this.track(
      this.ready
        .then(() => this.store.pending(config.name))
        .then((pending) => {
          if (pending.length === 0 || this.closed) return;
          this.logger.info(
            { subscription: config.name, pending: pending.length },
            'local bus resuming deliveries accepted before a restart',
          );
          for (const p of pending) state.queue.push({ message: p.message, attempts: p.attempts });
          this.pump(state);
        })
        .catch((err: unknown) =>
          this.logger.error({ subscription: config.name, err: errorMessage(err) }, 'local bus could not load pending deliveries'),
        ),
    );
  }

  /**
   * Stores, then fans out. A message the store could not keep is refused (its outcome says why), never accepted and lost;
   * one message that cannot be serialised fails alone.
   */
  async publish(topic: string, messages: OutgoingMessage[]): Promise<PublishOutcome[]> {
    if (this.closed) return messages.map(() => ({ ok: false, error: BUS_CLOSED, retryable: true }));
    if (typeof topic !== 'string' || topic.length === 0) {
      return messages.map(() => ({ ok: false, error: 'invalid topic name', retryable: false }));
    }
    await this.ready;
    const prepared = messages.map((m) => {
      try {
        return this.prepare(topic, m.data, m.attributes ?? {});
      } catch (err) {
        const error = errorMessage(err);
        this.logger.warn({ topic, error }, 'local bus rejected a message');
        return { error };
      }
    });
    const accepted = prepared.filter((p): p is StoredMessage => !('error' in p));
    try {
      await this.persist(accepted);
    } catch (err) {
      const error = `local bus store: ${errorMessage(err)}`;
      this.logger.error({ topic, error, messages: accepted.length }, 'local bus could not store messages; refused');
      return prepared.map((p) =>
        'error' in p ? { ok: false as const, error: p.error, retryable: false } : { ok: false as const, error, retryable: true },
      );
    }
    if (!this.closed) for (const m of accepted) this.fanOut(m);
    return prepared.map((p) =>
      'error' in p ? { ok: false as const, error: p.error, retryable: false } : { ok: true as const, messageId: p.messageId },
    );
  }

  /** Calls `listener` synchronously for every later message on `topic` (dead-lettered copies included). Returns the unsubscribe. */
  onPublish(topic: string, listener: PublishListener): () => void {
    const set = this.listeners.get(topic) ?? new Set<PublishListener>();
    set.add(listener);
    this.listeners.set(topic, set);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(topic) === set) this.listeners.delete(topic);
    };
  }

  /** Messages published to `topic` (the most recent `logLimit`), in publish order (empty for an unknown topic). */
  published(topic: string): PublishedMessage[] {
    return (this.topics.get(topic) ?? []).map(toPublished);
  }

  /** Messages that exhausted their attempts on `subscriptionName`, with the last error. */
  deadLettered(subscriptionName: string): DeadLetterRecord[] {
    return this.state(subscriptionName).deadLetters.map((r) => ({ ...r, attributes: { ...r.attributes } }));
  }

  stats(): Record<string, SubscriptionStats> {
    const out: Record<string, SubscriptionStats> = {};
    for (const [name, s] of this.subscriptionsByName) {
      out[name] = { ...s.counts, inFlight: s.inFlight, queued: s.queue.length, waitingRetry: s.retryTimers.size };
    }
    return out;
  }

  /** Resolves once nothing is queued, in flight or waiting for a retry; rejects after `timeoutMs` naming what is pending. */
  idle(timeoutMs = 30_000): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: IdleWaiter = {
        resolve,
        timer: setTimeout(() => {
          this.idleWaiters.delete(waiter);
          reject(new Error(`local bus not idle after ${timeoutMs} ms; still pending: ${this.describePending()}`));
        }, timeoutMs),
      };
      this.idleWaiters.add(waiter);
    });
  }

  /** Re-sends, once more, every message ever acked on the subscription (a fresh delivery cycle each). Returns how many. */
  redeliverAll(subscriptionName: string): number {
    const state = this.state(subscriptionName);
    if (this.closed) return 0;
    const messages = [...state.acked.values()];
    for (const message of messages) state.queue.push({ message, attempts: 0 });
    this.logger.info({ subscription: subscriptionName, count: messages.length }, 'local bus redelivering acked messages');
    this.pump(state);
    return messages.length;
  }

  /**
   * Stops retries and queued deliveries, waits up to closeTimeoutMs for in-flight ones (then aborts them), and makes later
   * publishes fail with `bus closed`. Idempotent.
   */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    for (const s of this.subscriptionsByName.values()) {
      const left = s.queue.length + s.retryTimers.size;
      for (const t of s.retryTimers) clearTimeout(t);
      s.retryTimers.clear();
      s.queue.length = 0;
      if (left > 0) {
        if (this.store instanceof MemoryBusStore)
          this.logger.warn(
            { subscription: s.config.name, dropped: left },
            'local bus closed with undelivered messages (memory store: they are lost)',
          );
        else
          this.logger.info(
            { subscription: s.config.name, pending: left },
            'local bus closed; undelivered messages stay in its store and are delivered after a restart',
          );
      }
    }
    if (this.deliveries.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        Promise.allSettled([...this.deliveries]).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), this.closeTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.logger.warn(
          { inFlight: this.deliveries.size, closeTimeoutMs: this.closeTimeoutMs },
          'local bus aborting in-flight deliveries',
        );
        for (const s of this.subscriptionsByName.values()) for (const c of s.controllers) c.abort();
        await Promise.allSettled([...this.deliveries]);
      }
    }
    await Promise.allSettled([...this.storeWork]);
    await this.store.close();
    this.notifyIfIdle();
  }

  /** Validates and serialises one message and gives it an id. Throws on a message Pub/Sub would refuse. */
  private prepare(topic: string, data: unknown, attributes: Record<string, string>): StoredMessage {
    for (const [k, v] of Object.entries(attributes)) {
      if (!k) throw new Error('attribute keys must be non-empty');
      if (typeof v !== 'string') throw new Error(`attribute ${k} must be a string, got ${typeof v}`);
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(data);
    } catch (err) {
      throw new Error(`data is not JSON-serialisable: ${errorMessage(err)}`, { cause: err });
    }
    if (json === undefined) throw new Error(`data is not JSON-serialisable (${typeof data})`);
    const bytes = Buffer.byteLength(json);
    if (bytes > MAX_MESSAGE_BYTES) throw new Error(`message of ${bytes} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`);
    return {
      topic,
      messageId: String(this.nextMessageId++),
      data: JSON.parse(json) as unknown,
      attributes: Object.freeze({ ...attributes }),
      publishTime: new Date().toISOString(),
      data64: Buffer.from(json).toString('base64'),
    };
  }

  /** Stores messages (with a pending delivery for each current subscription of their topic) and logs them. */
  private async persist(messages: readonly StoredMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const subs = new Map<string, string[]>();
    for (const m of messages)
      subs.set(
        m.topic,
        (this.subscriptionsByTopic.get(m.topic) ?? []).map((s) => s.config.name),
      );
    await this.track(this.store.append(messages, subs));
    for (const m of messages) {
      const log = this.topics.get(m.topic) ?? [];
      log.push(m);
      if (log.length > this.logLimit) log.splice(0, log.length - this.logLimit);
      this.topics.set(m.topic, log);
    }
  }

  /** Keeps store work visible to idle() and close(). */
  private track<T>(p: Promise<T>): Promise<T> {
    this.storeWork.add(p);
    const forget = () => {
      this.storeWork.delete(p);
      this.notifyIfIdle();
    };
    p.then(forget, forget);
    return p;
  }

  /** A store write after a delivery: a failure is logged (the delivery is then repeated after a restart: at-least-once). */
  private record(what: string, write: Promise<void>): void {
    void this.track(write).catch((err: unknown) =>
      this.logger.error({ err: errorMessage(err) }, `local bus store: could not record ${what}`),
    );
  }

  private fanOut(message: StoredMessage): void {
    const subs = this.subscriptionsByTopic.get(message.topic) ?? [];
    this.logger.debug({ topic: message.topic, messageId: message.messageId, subscriptions: subs.length }, 'local bus published');
    if (!this.closed) {
      for (const s of subs) {
        s.queue.push({ message, attempts: 0 });
        this.pump(s);
      }
    }
    const listeners = this.listeners.get(message.topic);
    if (listeners) {
      for (const listener of [...listeners]) {
        try {
          listener(toPublished(message));
        } catch (err) {
          this.logger.error({ topic: message.topic, messageId: message.messageId, err }, 'local bus onPublish listener threw');
        }
      }
    }
  }

  private pump(s: SubscriptionState): void {
    while (!this.closed && s.inFlight < s.config.maxOutstanding) {
      const d = s.queue.shift();
      if (!d) break;
      s.inFlight++;
      const p: Promise<void> = this.deliver(s, d).finally(() => this.deliveries.delete(p));
      this.deliveries.add(p);
    }
  }

  private async deliver(s: SubscriptionState, d: Delivery): Promise<void> {
    d.attempts++;
    s.counts.delivered++;
    const controller = new AbortController();
    s.controllers.add(controller);
    let result: Awaited<ReturnType<typeof pushOnce>>;
    try {
      const envelope = buildEnvelope(d.message, s.path, s.config.deadLetterTopic ? d.attempts : undefined);
      result = await pushOnce(s.config.pushEndpoint, JSON.stringify(envelope), s.config.ackDeadlineMs, controller);
    } catch (err) {
      result = { ack: false, error: errorMessage(err) };
    } finally {
      s.controllers.delete(controller);
      s.inFlight--;
    }
    const log = { subscription: s.config.name, messageId: d.message.messageId, attempt: d.attempts };
    if (result.ack) {
      s.counts.acked++;
      s.acked.set(d.message.messageId, d.message);
      if (s.acked.size > this.logLimit) s.acked.delete(s.acked.keys().next().value as string);
      this.record('an ack', this.store.settle(s.config.name, d.message.messageId, 'acked'));
      this.logger.debug({ ...log, status: result.status }, 'local bus delivery acked');
    } else {
      s.counts.nacked++;
      d.lastError = result.error;
      if (d.attempts >= s.config.maxDeliveryAttempts) {
        this.deadLetter(s, d, result.error);
      } else if (this.closed) {
        this.record('an attempt', this.store.recordAttempt(s.config.name, d.message.messageId, d.attempts, result.error));
        this.logger.warn({ ...log, error: result.error }, 'local bus nack after close; not retried now (kept in the store)');
      } else {
        this.record('an attempt', this.store.recordAttempt(s.config.name, d.message.messageId, d.attempts, result.error));
        const delayMs = computeBackoffMs(d.attempts, s.config.minBackoffMs, s.config.maxBackoffMs, this.random);
        this.logger.warn({ ...log, error: result.error, retryInMs: delayMs }, 'local bus delivery nacked');
        this.scheduleRetry(s, d, delayMs);
      }
    }
    this.pump(s);
    this.notifyIfIdle();
  }

  private scheduleRetry(s: SubscriptionState, d: Delivery, delayMs: number): void {
    const timer = setTimeout(() => {
      s.retryTimers.delete(timer);
      if (this.closed) return;
      s.queue.push(d);
      this.pump(s);
      this.notifyIfIdle();
    }, delayMs);
    s.retryTimers.add(timer);
  }

  private deadLetter(s: SubscriptionState, d: Delivery, lastError: string): void {
    s.counts.deadLettered++;
    const m = d.message;
    const record: DeadLetterRecord = {
      messageId: m.messageId,
      subscription: s.config.name,
      topic: m.topic,
      data: m.data,
      attributes: { ...m.attributes },
      publishTime: m.publishTime,
      deliveryAttempts: d.attempts,
      lastError,
      deadLetteredAt: new Date().toISOString(),
    };
    const dlq = s.config.deadLetterTopic;
    const settle = () => this.store.settle(s.config.name, m.messageId, 'dead_lettered', lastError);
    if (dlq) {
      record.deadLetterTopic = dlq;
      try {
        // Pub/Sub republishes the same data with the source recorded in attributes; the copy gets a new message id.
        const copy = this.prepare(dlq, m.data, {
          ...m.attributes,
          CloudPubSubDeadLetterSourceDeliveryCount: String(d.attempts),
          CloudPubSubDeadLetterSourceDeliveryErrorMessage: lastError,
          CloudPubSubDeadLetterSourceSubscription: s.config.name,
          CloudPubSubDeadLetterSourceSubscriptionProject: LOCAL_PROJECT,
          CloudPubSubDeadLetterSourceTopicPublishTime: m.publishTime,
        });
        record.deadLetterMessageId = copy.messageId;
        // The copy is stored before the original is settled: a crash in between delivers the original once more, never loses it.
        this.record(
          'a dead letter',
          this.persist([copy]).then(() => {
            if (!this.closed) this.fanOut(copy);
            return settle();
          }),
        );
      } catch (err) {
        this.logger.error(
          { subscription: s.config.name, messageId: m.messageId, deadLetterTopic: dlq, err },
          'local bus could not publish to the dead-letter topic',
        );
      }
    } else {
      this.record('a dead letter', settle());
    }
    s.deadLetters.push(record);
    this.logger.error(
      { subscription: s.config.name, messageId: m.messageId, attempts: d.attempts, lastError, deadLetterTopic: dlq },
      'local bus dead-lettered a message',
    );
  }

  private state(subscriptionName: string): SubscriptionState {
    const s = this.subscriptionsByName.get(subscriptionName);
    if (!s) throw new Error(`local bus: unknown subscription ${subscriptionName}`);
    return s;
  }

  private isIdle(): boolean {
    if (this.storeWork.size > 0) return false;
    for (const s of this.subscriptionsByName.values()) {
      if (s.queue.length > 0 || s.inFlight > 0 || s.retryTimers.size > 0) return false;
    }
    return true;
  }

  private describePending(): string {
    const parts: string[] = this.storeWork.size > 0 ? [`store writes (${this.storeWork.size})`] : [];
    for (const [name, s] of this.subscriptionsByName) {
      if (s.queue.length > 0 || s.inFlight > 0 || s.retryTimers.size > 0) {
        parts.push(`${name} (queued ${s.queue.length}, inFlight ${s.inFlight}, waitingRetry ${s.retryTimers.size})`);
      }
    }
    return parts.join('; ') || 'nothing';
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.size === 0 || !this.isIdle()) return;
    for (const w of this.idleWaiters) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.idleWaiters.clear();
  }
}

function toPublished(m: StoredMessage): PublishedMessage {
  return { messageId: m.messageId, data: m.data, attributes: { ...m.attributes }, publishTime: m.publishTime };
}

function positiveInt(sub: LocalSubscriptionConfig, field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`local bus: subscription ${sub.name}: ${field} must be an integer ≥ 1, got ${value}`);
  return value;
}

function nonNegative(sub: LocalSubscriptionConfig, field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`local bus: subscription ${sub.name}: ${field} must be ≥ 0, got ${value}`);
  return value;
}
