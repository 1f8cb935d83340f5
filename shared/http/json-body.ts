/**
 * JSON body parsing per route, with a size limit per kind of entry (operator calls are small; push envelopes larger).
 * Mount it AFTER authentication, so an unauthenticated caller never makes the service read a large body.
 *  - operator routes (`jsonBody`): too large → 413; not JSON, an unknown charset or content encoding, a gzip body that is not
 *    gzip → 4xx (error-handler.ts); a body with another content type → 415.
 *  - push routes (`pushBody`): a body that cannot be read can never succeed, so it must be acked, not redelivered until it
 *    dead-letters: the parse failure is kept in `res.locals.bodyError` for the route to ack and log as a poison message.
 */
import express, { type RequestHandler } from 'express';
import { AppError } from '../errors/app-error.js';
import { bodyError } from './error-handler.js';

export const BODY_LIMITS = {
  /** `/start`, `/check-stalled`, `/reset`: a /start body with 1000 player lookups is about 30 kB. */
  operator: '64kb',
  /** Pub/Sub push envelopes: a request of 200 players with their 55 features is ~0.7 MB base64; Pub/Sub's own limit is 10 MB. */
  push: '2mb',
} as const;

export function jsonBody(limit: string): RequestHandler[] {
  const parse = express.json({ limit });
  const requireJson: RequestHandler = (req, _res, next) => {
    const length = req.headers['content-length'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (req.body === undefined && hasBody) {
      return next(
        new AppError('UNSUPPORTED_MEDIA_TYPE', 'request body must be JSON: send Content-Type: application/json', {
          httpStatus: 415,
          retryable: false,
        }),
      );
    }
    next();
  };
  return [parse, requireJson];
}

/** Parses any content type as JSON; a failure is recorded in `res.locals.bodyError` instead of failing the request. */
export function pushBody(limit: string): RequestHandler {
  const parse = express.json({ limit, type: () => true });
  return (req, res, next) => {
    parse(req, res, (err?: unknown) => {
      if (err !== undefined) {
        const known = bodyError(err);
        res.locals.bodyError = known ? known.message : `the body could not be read: ${String(err)}`;
        req.body = undefined;
      }
      next();
    });
  };
}
