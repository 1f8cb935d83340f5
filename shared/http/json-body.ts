/**
 * JSON body parsing per route, with a size limit per kind of entry (operator calls are small; push envelopes larger).
 * Mount it AFTER authentication, so an unauthenticated caller never makes the service read a large body.
 * Too large → 413 (error-handler); not JSON → 400; a body with another content type → 415 (unless `allowOtherTypes`,
 * for push routes, where a body that is not a JSON envelope is a poison message, acked and logged by the route).
 */
import express, { type RequestHandler } from 'express';
import { AppError } from '../errors/app-error.js';

export const BODY_LIMITS = {
  /** `/start`, `/check-stalled`, `/reset`: a /start body with 1000 player lookups is about 30 kB. */
  operator: '64kb',
  /** Pub/Sub push envelopes: a prediction request with its 55 features is a few kB, base64 included. */
  push: '1mb',
} as const;

export function jsonBody(limit: string, opts: { allowOtherTypes?: boolean } = {}): RequestHandler[] {
  const parse = express.json({ limit });
  if (opts.allowOtherTypes) return [parse];
  const requireJson: RequestHandler = (req, _res, next) => {
    const length = req.headers['content-length'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (req.body === undefined && hasBody) {
      return next(new AppError('UNSUPPORTED_MEDIA_TYPE', 'request body must be JSON: send Content-Type: application/json', { httpStatus: 415, retryable: false }));
    }
    next();
  };
  return [parse, requireJson];
}
