/** `X-API-Key` authentication with a constant-time compare. The key is never logged. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../errors/app-error.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function apiKeyAuth(apiKey: string): RequestHandler {
  if (apiKey.length < 16) throw new Error('API key must be at least 16 characters');
  const expected = digest(apiKey);
  return (req, _res, next) => {
    const given = req.get('x-api-key');
    if (given === undefined) return next(new AppError('UNAUTHENTICATED', 'missing X-API-Key header', { httpStatus: 401, retryable: false }));
    // Comparing fixed-length digests keeps the compare constant-time whatever the given length.
    if (!timingSafeEqual(digest(given), expected)) return next(new AppError('UNAUTHENTICATED', 'invalid API key', { httpStatus: 401, retryable: false }));
    next();
  };
}
