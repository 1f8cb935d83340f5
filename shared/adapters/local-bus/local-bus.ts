/**
 * In-process stand-in for Google Pub/Sub with push subscriptions, over real HTTP on loopback.
 *
 * Same semantics as the real thing where the services can tell: wrapped push envelope, any 2xx acks, anything else (or no
 * answer within the ack deadline) nacks and redelivers with exponential backoff, dead-lettering after maxDeliveryAttempts
 * with Pub/Sub's `CloudPubSubDeadLetterSource*` attributes, at-least-once and unordered delivery, and subscriptions that
 * only see messages published after they were created. Extras for tests and the local stack: per-topic logs, stats,
 * idle(), redeliverAll() and onPublish().
 */
import type { Bus, OutgoingMessage, PublishOutcome } from '../../ports/bus.js';
import { computeBackoffMs } from './backoff.js';
import { assertLoopbackEndpoint } from './loopback.js';
import { buildEnvelope, pushOnce } from './push.js';
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
  maxDeliveryAttempts: 5,
  minBackoffMs: 100,
  maxBackoffMs: 10_000,
  ackDeadlineMs: 60_000,
  maxOutstanding: 16,
  closeTimeoutMs: 5_000,
} as const;

interface StoredMessage {
  readonly topic: string;
  readonly messageId: string;
  /** Parsed copy of the serialised JSON: what a subscriber decodes. */
  readonly data: unknown;
  readonly attributes: Readonly<Record<string, string>>;
  readonly publishTime: string;
  readonly data64: string;
}

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
  /** Every message ever acked, by id: what redeliverAll re-sends. */
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
  private nextMessageId = 1;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(options: LocalBusOptions = {}) {
    this.logger = options.logger ?? noopLogger;
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs;
    this.random = options.random ?? Math.random;
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
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<PublishOutcome[]> {
    if (this.closed) return messages.map(() => ({ ok: false, error: BUS_CLOSED }));
    if (typeof topic !== 'string' || topic.length === 0) {
      return messages.map(() => ({ ok: false, error: 'invalid topic name' }));
    }
    return messages.map((m) => this.publishOne(topic, m));
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

  /** Every message published to `topic`, in publish order (empty for an unknown topic). */
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
      const dropped = s.queue.length + s.retryTimers.size;
      for (const t of s.retryTimers) clearTimeout(t);
      s.retryTimers.clear();
      s.queue.length = 0;
      if (dropped > 0) this.logger.warn({ subscription: s.config.name, dropped }, 'local bus closed with undelivered messages');
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
        this.logger.warn({ inFlight: this.deliveries.size, closeTimeoutMs: this.closeTimeoutMs }, 'local bus aborting in-flight deliveries');
        for (const s of this.subscriptionsByName.values()) for (const c of s.controllers) c.abort();
        await Promise.allSettled([...this.deliveries]);
      }
    }
    this.notifyIfIdle();
  }

  private publishOne(topic: string, m: OutgoingMessage): PublishOutcome {
    let stored: StoredMessage;
    try {
      stored = this.store(topic, m.data, m.attributes ?? {});
    } catch (err) {
      const error = errorMessage(err);
      this.logger.warn({ topic, error }, 'local bus rejected a message');
      return { ok: false, error };
    }
    this.fanOut(stored);
    return { ok: true, messageId: stored.messageId };
  }

  /** Validates, serialises and appends to the topic log. Throws on a message Pub/Sub would refuse. */
  private store(topic: string, data: unknown, attributes: Record<string, string>): StoredMessage {
    for (const [k, v] of Object.entries(attributes)) {
      if (!k) throw new Error('attribute keys must be non-empty');
      if (typeof v !== 'string') throw new Error(`attribute ${k} must be a string, got ${typeof v}`);
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(data);
    } catch (err) {
      throw new Error(`data is not JSON-serialisable: ${errorMessage(err)}`);
    }
    if (json === undefined) throw new Error(`data is not JSON-serialisable (${typeof data})`);
    const bytes = Buffer.byteLength(json);
    if (bytes > MAX_MESSAGE_BYTES) throw new Error(`message of ${bytes} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`);
    const stored: StoredMessage = {
      topic,
      messageId: String(this.nextMessageId++),
      data: JSON.parse(json) as unknown,
      attributes: Object.freeze({ ...attributes }),
      publishTime: new Date().toISOString(),
      data64: Buffer.from(json).toString('base64'),
    };
    const log = this.topics.get(topic) ?? [];
    log.push(stored);
    this.topics.set(topic, log);
    return stored;
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
      this.logger.debug({ ...log, status: result.status }, 'local bus delivery acked');
    } else {
      s.counts.nacked++;
      d.lastError = result.error;
      if (d.attempts >= s.config.maxDeliveryAttempts) {
        this.deadLetter(s, d, result.error);
      } else if (this.closed) {
        this.logger.warn({ ...log, error: result.error }, 'local bus nack after close; not retried');
      } else {
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
    if (dlq) {
      record.deadLetterTopic = dlq;
      try {
        // Pub/Sub republishes the same data with the source recorded in attributes; the copy gets a new message id.
        const copy = this.store(dlq, m.data, {
          ...m.attributes,
          CloudPubSubDeadLetterSourceDeliveryCount: String(d.attempts),
          CloudPubSubDeadLetterSourceDeliveryErrorMessage: lastError,
          CloudPubSubDeadLetterSourceSubscription: s.config.name,
          CloudPubSubDeadLetterSourceSubscriptionProject: LOCAL_PROJECT,
          CloudPubSubDeadLetterSourceTopicPublishTime: m.publishTime,
        });
        record.deadLetterMessageId = copy.messageId;
        this.fanOut(copy);
      } catch (err) {
        this.logger.error({ subscription: s.config.name, messageId: m.messageId, deadLetterTopic: dlq, err }, 'local bus could not publish to the dead-letter topic');
      }
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
    for (const s of this.subscriptionsByName.values()) {
      if (s.queue.length > 0 || s.inFlight > 0 || s.retryTimers.size > 0) return false;
    }
    return true;
  }

  private describePending(): string {
    const parts: string[] = [];
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
  if (!Number.isInteger(value) || value < 1) throw new Error(`local bus: subscription ${sub.name}: ${field} must be an integer ≥ 1, got ${value}`);
  return value;
}

function nonNegative(sub: LocalSubscriptionConfig, field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`local bus: subscription ${sub.name}: ${field} must be ≥ 0, got ${value}`);
  return value;
}
