/** One push delivery over HTTP: the Pub/Sub wrapped envelope, POSTed with fetch under an ack deadline. */
import type { PushEnvelope } from '../../ports/bus.js';

export interface EnvelopeSource {
  messageId: string;
  attributes: Record<string, string>;
  publishTime: string;
  /** base64 of the JSON body */
  data64: string;
}

export function buildEnvelope(message: EnvelopeSource, subscriptionPath: string, deliveryAttempt: number | undefined): PushEnvelope {
  const envelope: PushEnvelope = {
    message: {
      data: message.data64,
      attributes: { ...message.attributes },
      messageId: message.messageId,
      message_id: message.messageId,
      publishTime: message.publishTime,
      publish_time: message.publishTime,
    },
    subscription: subscriptionPath,
  };
  if (deliveryAttempt !== undefined) envelope.deliveryAttempt = deliveryAttempt;
  return envelope;
}

export type PushResult = { ack: true; status: number } | { ack: false; error: string; status?: number };

const BODY_SNIPPET_CHARS = 200;

/**
 * POSTs `body` and reports ack (any 2xx) or nack with a reason. Never throws. The caller owns `controller` so it can abort
 * the request (on close); the ack deadline aborts it too.
 */
export async function pushOnce(endpoint: string, body: string, ackDeadlineMs: number, controller: AbortController): Promise<PushResult> {
  let deadlineExceeded = false;
  const timer = setTimeout(() => {
    deadlineExceeded = true;
    controller.abort();
  }, ackDeadlineMs);
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: controller.signal,
    });
    // Read the body to the end so the keep-alive connection is reused; it also bounds a slow body by the deadline.
    const text = await res.text();
    if (res.status >= 200 && res.status < 300) return { ack: true, status: res.status };
    const snippet = text.trim().slice(0, BODY_SNIPPET_CHARS);
    return { ack: false, status: res.status, error: `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}` };
  } catch (err) {
    if (deadlineExceeded) return { ack: false, error: `ack deadline exceeded (${ackDeadlineMs} ms)` };
    if (controller.signal.aborted) return { ack: false, error: 'delivery aborted: bus closed' };
    return { ack: false, error: describeFetchError(err) };
  } finally {
    clearTimeout(timer);
  }
}

function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${err.message}: ${code ? `${code} ` : ''}${cause.message}`.trim();
  }
  return err.message;
}
