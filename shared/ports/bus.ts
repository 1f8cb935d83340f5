/** Bus port: publish to a topic. Delivery to push endpoints is the transport's business (Pub/Sub or the local bus). */

export interface OutgoingMessage {
  /** JSON-serialisable body; becomes the base64 `data` of the push envelope. */
  data: unknown;
  attributes?: Record<string, string>;
}

export type PublishOutcome = { ok: true; messageId: string } | { ok: false; error: string };

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
