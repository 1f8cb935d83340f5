/**
 * A Pub/Sub push endpoint: the HTTP status is the ack (2xx) or the nack (anything else). This is the one place that turns a
 * push's fate into a status:
 *   a body or envelope that cannot be read, or a message that fails its schema → 204 and a POISON_MESSAGE log line: it can
 *     never succeed, so it is acked, never redelivered until it dead-letters;
 *   the handler's decision → `ack` (its status, 204 by default) or `retry` (503: Pub/Sub redelivers with backoff);
 *   an error the handler throws → 503 when it may succeed later (a retryable port error) or is not understood (a programmer
 *     error: redelivery, then the dead-letter topic, keeps the message), else 204 with the reason logged once.
 */
import type { RequestHandler } from 'express';
import type { z } from 'zod';
import type { AppLogger } from '../ports/logger.js';
import { decodePush } from '../contracts/messages.js';
import { errorResponse, logError } from './error-handler.js';
import { addLogContext } from '../logging/log-context.js';

export interface PushMessage<T> {
  data: T;
  messageId: string | undefined;
  attributes: Record<string, string>;
  publishTime: string | undefined;
  deliveryAttempt: number | undefined;
}

export type PushDecision = { kind: 'ack'; status?: 200 | 204; body?: Record<string, unknown> } | { kind: 'retry'; reason: string };

export function pushRoute<T>(opts: {
  service: string;
  logger: AppLogger;
  schema: z.ZodType<T>;
  handle: (message: PushMessage<T>) => Promise<PushDecision>;
}): RequestHandler {
  const { logger } = opts;
  return async (req, res) => {
    const bodyError: unknown = res.locals.bodyError;
    const decoded = typeof bodyError === 'string' ? { ok: false as const, error: bodyError } : decodePush(req.body, opts.schema);
    if (!decoded.ok) {
      logger.warn({ event: 'POISON_MESSAGE', route: req.path }, `message acked and dropped: ${decoded.error}`);
      res.status(204).end();
      return;
    }
    addLogContext({ message_id: decoded.messageId, delivery_attempt: decoded.deliveryAttempt });
    let decision: PushDecision;
    try {
      decision = await opts.handle({
        data: decoded.data,
        messageId: decoded.messageId,
        attributes: decoded.attributes,
        publishTime: decoded.publishTime,
        deliveryAttempt: decoded.deliveryAttempt,
      });
    } catch (err) {
      const appErr = errorResponse(err);
      logError(logger, opts.service, appErr, err, `${req.method} ${req.path}`);
      if (appErr.retryable || !appErr.operational) {
        res
          .status(appErr.httpStatus >= 500 ? appErr.httpStatus : 503)
          .json({ status: 'error', error: appErr.code, message: appErr.message });
      } else {
        logger.error(
          { event: 'PUSH_ACKED_AFTER_PERMANENT_FAILURE', code: appErr.code },
          `push acked: it can never succeed (${appErr.message})`,
        );
        res.status(204).end();
      }
      return;
    }
    if (decision.kind === 'retry') {
      logger.warn({ event: 'PUSH_RETRY' }, `push not acked; Pub/Sub redelivers it: ${decision.reason}`);
      res.status(503).json({ status: 'retry', message: decision.reason });
      return;
    }
    const status = decision.status ?? 204;
    if (status === 204 || decision.body === undefined) res.status(status).end();
    else res.status(status).json(decision.body);
  };
}
