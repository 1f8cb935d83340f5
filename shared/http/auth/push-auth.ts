/**
 * Authentication of Pub/Sub push deliveries (`/predict` on the worker, `/complete` on the coordinator). Pub/Sub sends
 * `Authorization: Bearer <OIDC token>` minted for the subscription's service account and audience, and nothing else
 * (https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions). Modes:
 *  - `oidc`: the token is verified here (signature, issuer, expiry, audience, allowed `email`, `email_verified`). For a
 *    Cloud Run service this needs the invoker IAM check off (`--no-invoker-iam-check`), or Cloud Run strips the signature;
 *    a stripped token is refused.
 *  - `iam`: Cloud Run's invoker IAM check has verified the token and stripped its signature; the claims (issuer,
 *    audience, expiry, allowed `email`, `email_verified`) are still checked here, and a token that still carries a
 *    signature is refused (it means the IAM check is off and nothing verified it). The deploy keeps the check on
 *    (`--invoker-iam-check` in cloudbuild.yaml, pinned by test/unit/cloudbuild.test.ts).
 *  - `disabled`: every push is accepted (the embedded default and the local bus; refused on Cloud Run by the config).
 *
 * In both checking modes a request that carries `X-Serverless-Authorization` is refused. Cloud Run checks that header
 * *instead of* `Authorization` when both are present and forwards `Authorization` untouched
 * (https://cloud.google.com/run/docs/authenticating/service-to-service#acquire-token): a caller with its own invoker
 * token there could pair it with a forged "stripped" pusher token in `Authorization`. Pub/Sub never sends the header.
 *
 * A refusal is 401: Pub/Sub retries, then dead-letters. A failure to fetch Google's keys is 503 (retried).
 */
import type { RequestHandler } from 'express';
import { AppError } from '../../errors/app-error.js';
import type { AppLogger } from '../../ports/logger.js';
import { bearerToken } from './bearer.js';
import { checkClaims, decodeJwtPayload, hasStrippedSignature, type IdTokenVerifier } from './id-token.js';
import type { IdTokenPolicy } from '../../auth/auth-rules.js';
import { authenticated, unauthenticated } from './operator-auth.js';

export type PushAuth = { mode: 'oidc'; verifier: IdTokenVerifier } | { mode: 'iam'; policy: IdTokenPolicy } | { mode: 'disabled' };

export function pushAuth(auth: PushAuth, logger: AppLogger): RequestHandler {
  if (auth.mode === 'disabled') return (_req, _res, next) => next();
  return async (req, res, next) => {
    try {
      if (req.get('x-serverless-authorization') !== undefined) {
        return next(
          unauthenticated(
            res,
            'push request refused: it carries X-Serverless-Authorization, which Pub/Sub never sends; Cloud Run checks that header instead of Authorization, so the push token in Authorization was not verified',
          ),
        );
      }
      const header = req.get('authorization');
      if (header === undefined)
        return next(unauthenticated(res, 'push authentication required: Authorization: Bearer <Pub/Sub OIDC token> is missing'));
      const token = bearerToken(header);
      if (token === undefined)
        return next(unauthenticated(res, 'push authentication required: Authorization header is not "Bearer <token>"'));
      let outcome;
      if (auth.mode === 'oidc') {
        outcome = await auth.verifier.verify(token);
      } else if (!hasStrippedSignature(token)) {
        outcome = {
          ok: false as const,
          status: 401 as const,
          reason:
            "PUSH_AUTH=iam but the token still carries its signature, so Cloud Run's invoker IAM check did not verify it: turn the IAM check on, or use PUSH_AUTH=oidc",
        };
      } else {
        outcome = checkClaims(decodeJwtPayload(token), auth.policy, Date.now() / 1000);
      }
      if (!outcome.ok) {
        if (outcome.status === 503)
          return next(
            new AppError('AUTH_UNAVAILABLE', `cannot verify the push token right now: ${outcome.reason}`, {
              httpStatus: 503,
              retryable: true,
            }),
          );
        return next(unauthenticated(res, `invalid push token: ${outcome.reason}`));
      }
      authenticated(res, logger, { auth: `push_${auth.mode}`, principal: outcome.email });
      next();
    } catch (err) {
      next(err);
    }
  };
}
