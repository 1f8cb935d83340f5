/**
 * Authentication for the operator endpoints (`/start`, `/status`, `/check-stalled`, `/reset`): EITHER a valid `X-API-Key`
 * OR `Authorization: Bearer <Google-signed ID token>` for an allowed identity. Rules:
 *  - an `X-API-Key` header, when present, decides: a wrong or stale key is 401 even if a bearer token is also sent;
 *  - a bearer token must verify (signature, issuer, expiry, audience, allowed `email`, `email_verified`); any other bearer
 *    string is 401;
 *  - neither header → 401 naming what this service accepts.
 * On success the request's logger gains `auth` (`api_key` + `api_key_id`, or `oidc` + `principal`). Keys and tokens are
 * never logged or echoed.
 */
import type { RequestHandler, Response } from 'express';
import { AppError } from '../../errors/app-error.js';
import type { AppLogger } from '../../ports/logger.js';
import { requestLog } from '../request-context.js';
import { ApiKeySet } from '../api-key-auth.js';
import type { IdTokenVerifier } from './id-token.js';
import { bearerToken } from './bearer.js';

export interface OperatorAuthOptions {
  /** Valid API keys (several during a rotation). Absent or empty: `X-API-Key` is not accepted. */
  apiKeys?: readonly string[];
  /** Verifier for Google ID tokens. Absent: bearer tokens are not accepted. */
  idTokens?: IdTokenVerifier;
}

export function operatorAuth(opts: OperatorAuthOptions, logger: AppLogger): RequestHandler {
  const keys = opts.apiKeys && opts.apiKeys.length > 0 ? new ApiKeySet(opts.apiKeys) : undefined;
  const verifier = opts.idTokens;
  if (!keys && !verifier) throw new Error('operator authentication needs API keys, an ID-token verifier, or both');
  const accepted = [
    keys ? 'an X-API-Key header' : undefined,
    verifier ? 'an Authorization: Bearer <Google-signed ID token> header' : undefined,
  ]
    .filter((s): s is string => s !== undefined)
    .join(' or ');

  return async (req, res, next) => {
    try {
      const given = req.get('x-api-key');
      const authorization = req.get('authorization');
      if (given !== undefined) {
        if (!keys) return next(unauthenticated(res, `X-API-Key is not accepted by this service: send ${accepted}`));
        const keyId = keys.match(given);
        if (keyId === undefined) return next(unauthenticated(res, 'invalid API key'));
        authenticated(res, logger, { auth: 'api_key', api_key_id: keyId });
        return next();
      }
      if (authorization !== undefined) {
        const token = bearerToken(authorization);
        if (token === undefined) return next(unauthenticated(res, `Authorization header is not "Bearer <token>": send ${accepted}`));
        if (!verifier)
          return next(unauthenticated(res, `bearer tokens are not accepted by this service (OIDC is not configured): send ${accepted}`));
        const outcome = await verifier.verify(token);
        if (!outcome.ok) {
          if (outcome.status === 503)
            return next(
              new AppError('AUTH_UNAVAILABLE', `cannot verify the ID token right now: ${outcome.reason}`, {
                httpStatus: 503,
                retryable: true,
              }),
            );
          return next(unauthenticated(res, `invalid ID token: ${outcome.reason}`));
        }
        authenticated(res, logger, { auth: 'oidc', principal: outcome.email });
        return next();
      }
      return next(unauthenticated(res, `authentication required: send ${accepted}`));
    } catch (err) {
      next(err);
    }
  };
}

export function unauthenticated(res: Response, message: string): AppError {
  res.set('WWW-Authenticate', 'Bearer');
  return new AppError('UNAUTHENTICATED', message, { httpStatus: 401, retryable: false });
}

/** Adds who called to the request's logger, for every line logged after authentication. */
export function authenticated(res: Response, fallback: AppLogger, bindings: Record<string, string>): void {
  const log = requestLog(res, fallback).child(bindings);
  res.locals.log = log;
  log.debug('authenticated');
}
