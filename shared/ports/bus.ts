/** Bus port: publish to a topic. Delivery to push endpoints is the transport's business (Pub/Sub or the local bus). */

export interface OutgoingMessage {
  /** JSON-serialisable body; becomes the base64 `data` of the push envelope. */
  data: unknown;
  attributes?: Record<string, string>;
}

/**
 * A message's publish outcome. A failure says whether publishing it again may succeed (`retryable`, decided by the adapter:
 * an unavailable service or a closed bus may; a message the transport refuses — too large, not serialisable — never will;
 * absent means unknown, treated as retryable).
 */
export type PublishOutcome = { ok: true; messageId: string } | { ok: false; error: string; retryable?: boolean };

/** The one error a Bus adapter throws (a failure of the bus itself, not of one message: those are outcomes). */
export class BusError extends Error {
  readonly retryable: boolean;
  constructor(message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BusError';
    this.retryable = opts.retryable;
  }
}

export interface Bus {
  /** Publishes every message; the result has one outcome per message, in order. Never throws for a single message's failure. */
  publish(topic: string, messages: OutgoingMessage[]): Promise<PublishOutcome[]>;
  /** Flushes pending publishes and releases resources. */
  close(): Promise<void>;
}

/** The push envelope Pub/Sub POSTs to a subscriber (wrapped delivery). */
export interface PushEnvelope {
  message: {
    data: string;
    attributes?: Record<string, string>;
    messageId: string;
    message_id?: string;
    publishTime: string;
    publish_time?: string;
  };
  subscription: string;
  deliveryAttempt?: number;
}
