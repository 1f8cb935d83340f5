/**
 * Authentication settings, as pieces of the services' config schemas (services/<svc>/config.ts), with their cross-field
 * rules and the plain settings main.ts builds the authenticators from. See docs/security.md.
 *
 * Operator endpoints (coordinator): X-API-Key (keys from the env and/or a Secret Manager secret) and/or Google ID tokens
 * (audience + allowed emails). At least one must be configured.
 *
 * Push endpoints (both services): `PUSH_AUTH=oidc|iam|disabled`. Unset, it is `oidc` as soon as the service runs against
 * a GCP project (`GCP_PROJECT_ID`) or any PUSH_AUTH_* variable is set — production is closed by default, and opening it
 * takes an explicit `PUSH_AUTH=disabled` — and `disabled` otherwise (the embedded default, the local bus). On Cloud Run
 * (`K_SERVICE` set) `disabled` is refused.
 */
import { z } from 'zod';
import { GOOGLE_PEM_CERTS_URL, MIN_API_KEY_LENGTH, SECRET_VERSION_PATTERN, type IdTokenPolicy } from '../auth/auth-rules.js';

const splitList = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** A comma-separated list; unset or empty → []. Each item is validated by `item` (errors name the item's index). */
const list = <T extends z.ZodType<string, string>>(item: T) => z.string().optional().transform(splitList).pipe(z.array(item));

/** Unset and blank are the same thing (Cloud Run and shells make empty variables easily). */
const optional = <T extends z.ZodType<string, string>>(inner: T) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .pipe(inner.optional());

const apiKey = z
  .string()
  .min(MIN_API_KEY_LENGTH, `must be at least ${MIN_API_KEY_LENGTH} characters`)
  .regex(/^\S+$/, 'must not contain whitespace');

const isLoopback = (host: string): boolean => host === '127.0.0.1' || host === 'localhost' || host === '[::1]';

export const operatorAuthEnv = {
  /** One API key for X-API-Key. */
  COORDINATOR_API_KEY: optional(apiKey),
  /** Several API keys, comma-separated (a rotation: `new,old`). */
  COORDINATOR_API_KEYS: list(apiKey),
  /** A Secret Manager version holding API keys, one per line; read once at boot. */
  COORDINATOR_API_KEY_SECRET: optional(
    z.string().regex(SECRET_VERSION_PATTERN, 'must be a Secret Manager version name: projects/PROJECT/secrets/SECRET/versions/VERSION'),
  ),
  /** Audiences an operator's Google ID token may be minted for (normally the coordinator's URL), comma-separated. */
  OPERATOR_AUTH_AUDIENCE: list(z.string().min(1)),
  /** Identities (service accounts or users, the token's `email`) allowed on the operator endpoints, comma-separated. */
  OPERATOR_AUTH_EMAILS: list(z.email()),
};

export const pushAuthEnv = {
  PUSH_AUTH: z.enum(['oidc', 'iam', 'disabled']).optional(),
  /** The audience of the push subscription's OIDC token (by default Pub/Sub uses the push endpoint URL), comma-separated. */
  PUSH_AUTH_AUDIENCE: list(z.string().min(1)),
  /** The push subscriptions' service accounts, comma-separated. */
  PUSH_AUTH_SERVICE_ACCOUNTS: list(z.email()),
  /** Google's token-signing keys (PEM, `{kid: pem}`); tests point it at a local server. */
  OIDC_CERTS_URL: z
    .url()
    .default(GOOGLE_PEM_CERTS_URL)
    .refine((u) => {
      const url = new URL(u);
      return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname));
    }, 'must be an https URL (plain http only on 127.0.0.1/localhost)'),
};

interface OperatorAuthFields {
  COORDINATOR_API_KEY?: string | undefined;
  COORDINATOR_API_KEYS: string[];
  COORDINATOR_API_KEY_SECRET?: string | undefined;
  OPERATOR_AUTH_AUDIENCE: string[];
  OPERATOR_AUTH_EMAILS: string[];
}

interface PushAuthFields {
  GCP_PROJECT_ID?: string | undefined;
  /** Set by Cloud Run on every service instance (https://cloud.google.com/run/docs/container-contract#services-env-vars). */
  K_SERVICE?: string | undefined;
  PUSH_AUTH?: 'oidc' | 'iam' | 'disabled' | undefined;
  PUSH_AUTH_AUDIENCE: string[];
  PUSH_AUTH_SERVICE_ACCOUNTS: string[];
}

type RefinementCtx = z.core.$RefinementCtx;

export function refineOperatorAuth(cfg: OperatorAuthFields, ctx: RefinementCtx): void {
  const oidcAudience = cfg.OPERATOR_AUTH_AUDIENCE.length > 0;
  const oidcEmails = cfg.OPERATOR_AUTH_EMAILS.length > 0;
  if (oidcAudience !== oidcEmails) {
    ctx.addIssue({
      code: 'custom',
      path: [oidcAudience ? 'OPERATOR_AUTH_EMAILS' : 'OPERATOR_AUTH_AUDIENCE'],
      message: 'OPERATOR_AUTH_AUDIENCE and OPERATOR_AUTH_EMAILS go together: set both to accept Google ID tokens, or neither',
    });
  }
  const hasKeys =
    cfg.COORDINATOR_API_KEY !== undefined || cfg.COORDINATOR_API_KEYS.length > 0 || cfg.COORDINATOR_API_KEY_SECRET !== undefined;
  if (!hasKeys && !oidcAudience && !oidcEmails) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message:
        'no operator authentication is configured: set COORDINATOR_API_KEY, COORDINATOR_API_KEYS or COORDINATOR_API_KEY_SECRET (X-API-Key), and/or OPERATOR_AUTH_AUDIENCE with OPERATOR_AUTH_EMAILS (Google ID tokens)',
    });
  }
}

export function pushAuthMode(cfg: PushAuthFields): 'oidc' | 'iam' | 'disabled' {
  if (cfg.PUSH_AUTH !== undefined) return cfg.PUSH_AUTH;
  return cfg.GCP_PROJECT_ID !== undefined || cfg.PUSH_AUTH_AUDIENCE.length > 0 || cfg.PUSH_AUTH_SERVICE_ACCOUNTS.length > 0
    ? 'oidc'
    : 'disabled';
}

export function refinePushAuth(cfg: PushAuthFields, ctx: RefinementCtx): void {
  const mode = pushAuthMode(cfg);
  if (mode === 'disabled') {
    // On Cloud Run a push endpoint is reachable from outside: an open one would let anyone write predictions or mark
    // players complete. The embedded default and the emulator tests never run under Cloud Run.
    if (cfg.K_SERVICE !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['PUSH_AUTH'],
        message: `push authentication cannot be disabled on Cloud Run (K_SERVICE is set): set PUSH_AUTH=iam (invoker IAM check on) or PUSH_AUTH=oidc (check off) with PUSH_AUTH_AUDIENCE and PUSH_AUTH_SERVICE_ACCOUNTS (docs/security.md)`,
      });
    }
    return;
  }
  const why =
    cfg.PUSH_AUTH !== undefined
      ? `PUSH_AUTH=${cfg.PUSH_AUTH}`
      : cfg.GCP_PROJECT_ID !== undefined
        ? 'push authentication is on by default when GCP_PROJECT_ID is set'
        : 'push authentication is on because a PUSH_AUTH_* variable is set';
  const escape = cfg.PUSH_AUTH === undefined ? ' (or PUSH_AUTH=disabled to accept unauthenticated pushes)' : '';
  if (cfg.PUSH_AUTH_AUDIENCE.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['PUSH_AUTH_AUDIENCE'],
      message: `required: ${why}; set the push subscription's OIDC audience${escape}`,
    });
  }
  if (cfg.PUSH_AUTH_SERVICE_ACCOUNTS.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['PUSH_AUTH_SERVICE_ACCOUNTS'],
      message: `required: ${why}; set the push subscriptions' service account emails${escape}`,
    });
  }
}

export interface OperatorAuthConfig {
  /** Keys given in the environment. */
  apiKeys: string[];
  /** A Secret Manager version with more keys, read at boot. */
  apiKeySecret: string | undefined;
  /** Google ID tokens accepted when set. */
  oidc: IdTokenPolicy | undefined;
}

export function operatorAuthConfig(cfg: OperatorAuthFields): OperatorAuthConfig {
  return {
    apiKeys: [...new Set([...(cfg.COORDINATOR_API_KEY !== undefined ? [cfg.COORDINATOR_API_KEY] : []), ...cfg.COORDINATOR_API_KEYS])],
    apiKeySecret: cfg.COORDINATOR_API_KEY_SECRET,
    oidc:
      cfg.OPERATOR_AUTH_AUDIENCE.length > 0 && cfg.OPERATOR_AUTH_EMAILS.length > 0
        ? { audience: cfg.OPERATOR_AUTH_AUDIENCE, allowedEmails: cfg.OPERATOR_AUTH_EMAILS }
        : undefined,
  };
}

export type PushAuthConfig = { mode: 'oidc' | 'iam'; policy: IdTokenPolicy } | { mode: 'disabled'; explicit: boolean };

export function pushAuthConfig(cfg: PushAuthFields): PushAuthConfig {
  const mode = pushAuthMode(cfg);
  if (mode === 'disabled') return { mode, explicit: cfg.PUSH_AUTH === 'disabled' };
  return { mode, policy: { audience: cfg.PUSH_AUTH_AUDIENCE, allowedEmails: cfg.PUSH_AUTH_SERVICE_ACCOUNTS } };
}
