/**
 * `X-API-Key` checking with a constant-time compare. Several keys may be valid at once, so a key can be rotated without
 * downtime (old and new both accepted until the old one is withdrawn). Keys are never logged: a match is identified by
 * `keyId`, the first 8 hex characters of the key's SHA-256, which tells operators which key a caller still uses.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../errors/app-error.js';
import { MIN_API_KEY_LENGTH } from '../auth/auth-rules.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** A short, non-reversible name for a key, safe to log. */
export const apiKeyId = (key: string): string => digest(key).toString('hex').slice(0, 8);

export class ApiKeySet {
  private readonly keys: Array<{ digest: Buffer; id: string }>;

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('an API key set needs at least one key');
    keys.forEach((k, i) => {
      if (k.length < MIN_API_KEY_LENGTH) throw new Error(`API key #${i + 1} must be at least ${MIN_API_KEY_LENGTH} characters`);
    });
    this.keys = [...new Set(keys)].map((k) => ({ digest: digest(k), id: apiKeyId(k) }));
  }

  get size(): number {
    return this.keys.length;
  }

  /** The id of the key `given` equals, or undefined. Compares fixed-length digests against every key, without early exit. */
  match(given: string): string | undefined {
    const d = digest(given);
    let found: string | undefined;
    for (const k of this.keys) {
      if (timingSafeEqual(d, k.digest)) found ??= k.id;
    }
    return found;
  }
}

/** Middleware accepting only a valid `X-API-Key` (the operator endpoints use `operatorAuth`, which also takes OIDC). */
export function apiKeyAuth(keys: string | readonly string[]): RequestHandler {
  const set = new ApiKeySet(typeof keys === 'string' ? [keys] : keys);
  return (req, _res, next) => {
    const given = req.get('x-api-key');
    if (given === undefined)
      return next(new AppError('UNAUTHENTICATED', 'missing X-API-Key header', { httpStatus: 401, retryable: false }));
    if (set.match(given) === undefined)
      return next(new AppError('UNAUTHENTICATED', 'invalid API key', { httpStatus: 401, retryable: false }));
    next();
  };
}
