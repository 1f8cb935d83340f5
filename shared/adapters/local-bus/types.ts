/** Public shapes of the local bus: subscription config, observability records and the logger it accepts. */

/** The few logger methods the bus calls; a `pino.Logger` satisfies it. */
export interface LocalBusLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A push subscription, as plain config (the local counterpart of a Pub/Sub push subscription). */
export interface LocalSubscriptionConfig {
  /** Short name; the envelope carries `projects/local/subscriptions/<name>`. Unique per bus. */
  name: string;
  topic: string;
  /** `http://127.0.0.1:port/path` (or `localhost` / `[::1]`); any other host is refused. */
  pushEndpoint: string;
  /** Attempts before the message is dead-lettered. Default 15 (docs/operations.md says why). */
  maxDeliveryAttempts?: number;
  /** Topic that receives dead-lettered messages; when set, envelopes carry `deliveryAttempt`. */
  deadLetterTopic?: string;
  /** Retry backoff after a nack, doubling from min to max with jitter. Defaults 100 and 10 000 ms. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** HTTP timeout of one delivery; no answer in time counts as a nack. Default 60 000 ms. */
  ackDeadlineMs?: number;
  /** Concurrent deliveries (HTTP requests in flight) for this subscription; the rest queue. Default 16. */
  maxOutstanding?: number;
}

/** A message as stored in a topic's log. `data` is the JSON value as it travels (a parsed copy of what was serialised). */
export interface PublishedMessage {
  messageId: string;
  data: unknown;
  attributes: Record<string, string>;
  publishTime: string;
}

export type PublishListener = (message: PublishedMessage) => void;

export interface SubscriptionStats {
  /** Delivery attempts started (HTTP POSTs sent), redeliveries included. */
  delivered: number;
  /** Attempts answered 2xx. */
  acked: number;
  /** Attempts that failed: non-2xx, network error, ack deadline exceeded. */
  nacked: number;
  /** Messages that exhausted maxDeliveryAttempts. */
  deadLettered: number;
  /** Requests in flight now (never above maxOutstanding). */
  inFlight: number;
  /** Deliveries waiting for a free slot. */
  queued: number;
  /** Nacked messages waiting for their backoff to elapse. */
  waitingRetry: number;
}

export interface DeadLetterRecord {
  messageId: string;
  subscription: string;
  topic: string;
  data: unknown;
  attributes: Record<string, string>;
  publishTime: string;
  deliveryAttempts: number;
  lastError: string;
  deadLetteredAt: string;
  /** Topic it was republished to, when the subscription has one. */
  deadLetterTopic?: string;
  /** Id of the copy published to the dead-letter topic. */
  deadLetterMessageId?: string;
}

export interface LocalBusOptions {
  logger?: LocalBusLogger;
  /** Where accepted messages and delivery state are kept (bus-store.ts). Default: memory (nothing survives the process). */
  store?: import('./bus-store.js').BusStore;
  /** Messages kept in memory per topic (published()) and per subscription (redeliverAll()). Default 100. */
  logLimit?: number;
  /** How long close() waits for in-flight deliveries before aborting them. Default 5 000 ms. */
  closeTimeoutMs?: number;
  /** Source of jitter in [0, 1); Math.random by default. */
  random?: () => number;
}
