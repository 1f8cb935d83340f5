/**
 * Bus over Google Pub/Sub. One `PubSub` client per process (built by the composition root and injected); one `Topic`
 * handle per topic name, cached, carrying the publisher batching settings. Publisher flow control blocks a publish while
 * too many messages or bytes are in flight. Every message gets its own outcome, in order: one failure never throws and
 * never hides the others. `close()` stops new publishes, flushes every topic, waits for what is in flight, then closes
 * the client (unless the caller keeps it for another bus).
 */
import type { BatchPublishOptions, PubSub, Topic } from '@google-cloud/pubsub';
import type { Bus, OutgoingMessage, PublishOutcome } from '../../ports/bus.js';
import { errorMessage } from '../../errors/app-error.js';
import { FlowGate, validateFlowLimits, type FlowLimits } from './flow-gate.js';

export interface PubSubBusOptions {
  client: PubSub;
  /** Close the client in `close()`; false when the client is shared with another bus (the last one closes it). */
  closeClient?: boolean;
  batching?: BatchPublishOptions;
  flowControl?: FlowLimits;
}

/**
 * Batching: the coordinator publishes up to 500 requests of a few KB at once, so 100 messages or 1 MiB per RPC with a
 * 20 ms window gives a handful of RPCs per /start; the worker publishes one completion per request, so the window is
 * short enough not to add latency. Flow control bounds the memory a huge fan-out can hold in the client.
 */
export const DEFAULT_PUBLISH_SETTINGS: { batching: Required<BatchPublishOptions>; flowControl: Required<FlowLimits> } = {
  batching: { maxMessages: 100, maxBytes: 1024 * 1024, maxMilliseconds: 20 },
  flowControl: { maxOutstandingMessages: 1000, maxOutstandingBytes: 64 * 1024 * 1024 },
};

interface TopicHandle {
  topic: Topic;
  gate: FlowGate;
}

export class PubSubBus implements Bus {
  private readonly client: PubSub;
  private readonly closeClient: boolean;
  private readonly batching: BatchPublishOptions;
  private readonly flowControl: FlowLimits;
  private readonly topics = new Map<string, TopicHandle>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(opts: PubSubBusOptions) {
    this.client = opts.client;
    this.closeClient = opts.closeClient ?? true;
    this.batching = { ...DEFAULT_PUBLISH_SETTINGS.batching, ...opts.batching };
    this.flowControl = { ...DEFAULT_PUBLISH_SETTINGS.flowControl, ...opts.flowControl };
    validateFlowLimits(this.flowControl); // now, rather than at the first publish
  }

  async publish(topicName: string, messages: OutgoingMessage[]): Promise<PublishOutcome[]> {
    if (this.closing)
      return messages.map(() => ({ ok: false, error: `publish to ${topicName} refused: pubsub bus closed`, retryable: true }));
    const handle = this.handle(topicName);
    const settled = await Promise.allSettled(messages.map((m) => this.track(this.publishOne(handle, m))));
    return settled.map((s) =>
      s.status === 'fulfilled'
        ? { ok: true, messageId: s.value }
        : {
            ok: false,
            error: `publish to ${handle.topic.name} failed: ${errorMessage(s.reason)}`,
            retryable: retryablePublishFailure(s.reason),
          },
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.topics.values()].map((h) => h.topic.flush()));
    await Promise.allSettled([...this.inFlight]);
    if (this.closeClient) await this.client.close();
  }

  private async publishOne(handle: TopicHandle, message: OutgoingMessage): Promise<string> {
    const data = encode(message.data);
    const bytes = data.length + attributeBytes(message.attributes);
    await handle.gate.acquire(bytes);
    try {
      return await handle.topic.publishMessage({ data, ...(message.attributes ? { attributes: message.attributes } : {}) });
    } finally {
      handle.gate.release(bytes);
    }
  }

  private handle(name: string): TopicHandle {
    let handle = this.topics.get(name);
    if (!handle) {
      handle = { topic: this.client.topic(name, { batching: this.batching }), gate: new FlowGate(this.flowControl) };
      this.topics.set(name, handle);
    }
    return handle;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }
}

function encode(data: unknown): Buffer {
  const json = JSON.stringify(data);
  if (json === undefined) throw new Error(`message data is not JSON-serialisable (${typeof data})`);
  return Buffer.from(json);
}

function attributeBytes(attributes: Record<string, string> | undefined): number {
  let n = 0;
  for (const [k, v] of Object.entries(attributes ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/**
 * Whether a failed publish may succeed later, from its gRPC status: INVALID_ARGUMENT (3: a message too large or malformed),
 * NOT_FOUND (5: no such topic), PERMISSION_DENIED (7) and a message the bus could not serialise never will; everything else
 * (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, …) may. https://cloud.google.com/pubsub/docs/reference/error-codes
 */
function retryablePublishFailure(reason: unknown): boolean {
  const code = typeof reason === 'object' && reason !== null ? (reason as { code?: unknown }).code : undefined;
  if (typeof code === 'number') return ![3, 5, 7].includes(code);
  return !/not JSON-serialisable/.test(errorMessage(reason));
}
