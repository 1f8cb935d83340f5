/**
 * Verification of Google-signed OIDC ID tokens (operators' `gcloud auth print-identity-token`, Cloud Scheduler, Pub/Sub push).
 *
 * The signature, issuer, expiry and audience are checked by google-auth-library (`verifySignedJwtWithCertsAsync`) against
 * Google's published signing keys; then the claims are checked again here, with the allow-list of identities: `email`
 * must be listed and `email_verified` must be `true`. A verified signature alone proves only that *some* Google identity
 * minted the token for *some* audience — every check matters.
 *
 * Outcomes carry a short reason safe to log and to return. The token itself is never put in a reason: the library's own
 * error messages embed the whole token and its payload, so they are classified, never passed on.
 */
import type { OAuth2Client } from 'google-auth-library';
import { z } from 'zod';
import { errorMessage } from '../../errors/error-message.js';
import type { IdTokenPolicy } from '../../auth/auth-rules.js';

export const GOOGLE_ISSUERS: readonly string[] = ['accounts.google.com', 'https://accounts.google.com'];
/** Cloud Run replaces the signature of a token it has already verified (invoker IAM check) with this marker. */
export const STRIPPED_SIGNATURE = 'SIGNATURE_REMOVED_BY_GOOGLE';
/** Google ID tokens live one hour; anything claiming to live longer than this is refused. */
const MAX_TOKEN_LIFETIME_SECONDS = 2 * 3600;
/** Tolerance on `exp`, as google-auth-library allows. */
export const CLOCK_SKEW_SECONDS = 300;

export type IdTokenOutcome =
  | { ok: true; email: string }
  /** `status` 503: the keys could not be fetched (a retry may succeed); 401: the token is not acceptable. */
  | { ok: false; status: 401 | 503; reason: string };

export interface IdTokenVerifier {
  verify(token: string): Promise<IdTokenOutcome>;
}

const reject = (reason: string): IdTokenOutcome => ({ ok: false, status: 401, reason });

// ---------------------------------------------------------------------------------------------------------------------
// Signing keys

/** Where the signing keys come from: Google's certs endpoint in production, a local server or a fixed set in tests. */
export interface CertSource {
  /** `refresh` asks for a fresh copy (a token named a key not in the cached set); a source may refuse to refetch often. */
  certs(opts?: { refresh?: boolean }): Promise<Record<string, string>>;
}

/** How long after its max-age a cached key set may still be used when a refetch fails. */
const STALE_GRACE_MS = 6 * 3600 * 1000;

const certsBodySchema = z.record(z.string().min(1), z.string().min(1));

export interface HttpCertSourceOptions {
  url: string;
  fetchImpl?: typeof fetch;
  /** Cache lifetime when the response has no `Cache-Control: max-age` (Google always sends one). */
  defaultMaxAgeSeconds?: number;
  /** A refresh for an unknown key id is honoured at most this often, so random key ids cannot make us hammer Google. */
  minRefreshIntervalMs?: number;
  now?: () => number;
}

/** Fetches `{kid: pem}` over HTTPS, caches it for the response's max-age, and shares one in-flight fetch between callers. */
export class HttpCertSource implements CertSource {
  private cached: { certs: Record<string, string>; expiresAt: number; fetchedAt: number } | undefined;
  private inflight: Promise<Record<string, string>> | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly opts: HttpCertSourceOptions) {
    this.fetchImpl = opts.fetchImpl ?? fetch;
    this.now = opts.now ?? Date.now;
  }

  async certs(opts: { refresh?: boolean } = {}): Promise<Record<string, string>> {
    const now = this.now();
    const c = this.cached;
    const mayRefresh = !c || now - c.fetchedAt >= (this.opts.minRefreshIntervalMs ?? 60_000);
    if (c && now < c.expiresAt && !(opts.refresh && mayRefresh)) return c.certs;
    this.inflight ??= this.fetchCerts().finally(() => {
      this.inflight = undefined;
    });
    try {
      return await this.inflight;
    } catch (err) {
      // Google publishes keys well before using them and keeps them long after: a recently expired copy beats a 503.
      if (c && now < c.expiresAt + STALE_GRACE_MS) return c.certs;
      throw err;
    }
  }

  private async fetchCerts(): Promise<Record<string, string>> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.opts.url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new Error(`could not fetch the token-signing keys from ${this.opts.url}: ${errorMessage(err)}`, { cause: err });
    }
    if (!res.ok) throw new Error(`could not fetch the token-signing keys from ${this.opts.url}: HTTP ${res.status}`);
    const parsed = certsBodySchema.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw new Error(`the token-signing keys from ${this.opts.url} are not a {kid: pem} object`);
    const maxAge = /max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1];
    const now = this.now();
    const ttlMs = (maxAge !== undefined ? Number(maxAge) : (this.opts.defaultMaxAgeSeconds ?? 300)) * 1000;
    this.cached = { certs: parsed.data, fetchedAt: now, expiresAt: now + ttlMs };
    return parsed.data;
  }
}

/** A fixed key set (tests, or keys pinned by configuration). */
export class StaticCertSource implements CertSource {
  constructor(private readonly keys: Record<string, string>) {}
  async certs(): Promise<Record<string, string>> {
    return this.keys;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Claims

/** The claims this product relies on, checked on every accepted token whoever verified the signature. */
export function checkClaims(payload: unknown, policy: IdTokenPolicy, nowSeconds: number): IdTokenOutcome {
  if (typeof payload !== 'object' || payload === null) return reject('token payload is not a JSON object');
  const p = payload as Record<string, unknown>;
  if (typeof p.iss !== 'string' || !GOOGLE_ISSUERS.includes(p.iss)) return reject('token was not issued by Google (iss)');
  if (typeof p.aud !== 'string' || !policy.audience.includes(p.aud)) {
    return reject(
      'token audience (aud) does not match this service: mint it for the service URL, e.g. gcloud auth print-identity-token --audiences=URL',
    );
  }
  const exp = typeof p.exp === 'number' ? p.exp : Number.NaN;
  if (!Number.isFinite(exp)) return reject('token has no valid expiry (exp)');
  if (nowSeconds > exp + CLOCK_SKEW_SECONDS) return reject('token has expired');
  if (typeof p.email !== 'string' || p.email === '') {
    return reject('token has no email claim (for a service account, mint it with --include-email)');
  }
  if (p.email_verified !== true) return reject('token email is not verified (email_verified is not true)');
  const email = p.email.toLowerCase();
  if (!policy.allowedEmails.some((e) => e.toLowerCase() === email)) return reject(`identity ${email} is not allowed to call this endpoint`);
  return { ok: true, email };
}

/** Decodes a JWT's payload without checking anything. Only for tokens whose signature someone else has verified. */
export function decodeJwtPayload(token: string): unknown {
  return decodeSegment(token.split('.')[1]);
}

function decodeSegment(segment: string | undefined): unknown {
  if (!segment) return undefined;
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function hasStrippedSignature(token: string): boolean {
  return token.split('.')[2] === STRIPPED_SIGNATURE;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

// ---------------------------------------------------------------------------------------------------------------------
// The verifier

export interface GoogleIdTokenVerifierOptions extends IdTokenPolicy {
  certs: CertSource;
}

/** Verifies a Google-signed ID token: signature (Google's keys), issuer, expiry, audience, then the identity allow-list. */
export class GoogleIdTokenVerifier implements IdTokenVerifier {
  /**
   * Google's client, loaded at the first token to verify: a process that never sees one (API keys, push auth off — the
   * embedded default) does not pay for loading google-auth-library (≈ 0.1 CPU-s of each start, docs/benchmarks.md).
   */
  private client: Promise<OAuth2Client> | null = null;
  private readonly policy: IdTokenPolicy;

  constructor(private readonly opts: GoogleIdTokenVerifierOptions) {
    if (opts.audience.length === 0) throw new Error('an ID-token verifier needs at least one audience');
    if (opts.allowedEmails.length === 0) throw new Error('an ID-token verifier needs at least one allowed email');
    this.policy = { audience: [...opts.audience], allowedEmails: [...opts.allowedEmails] };
  }

  async verify(token: string): Promise<IdTokenOutcome> {
    if (hasStrippedSignature(token)) {
      return reject(
        "token signature was removed by Cloud Run's invoker IAM check, so it cannot be verified here: deploy with --no-invoker-iam-check for in-app verification (docs/security.md)",
      );
    }
    if (!JWT_SHAPE.test(token)) return reject('bearer token is not a JWT: expected a Google-signed ID token');
    let certs: Record<string, string>;
    try {
      certs = await this.opts.certs.certs();
      if (!(keyIdOf(token) in certs)) certs = await this.opts.certs.certs({ refresh: true });
    } catch (err) {
      return { ok: false, status: 503, reason: err instanceof Error ? err.message : 'could not fetch the token-signing keys' };
    }
    this.client ??= import('google-auth-library').then(({ OAuth2Client }) => new OAuth2Client({ issuers: [...GOOGLE_ISSUERS] }));
    const client = await this.client;
    let payload: unknown;
    try {
      const ticket = await client.verifySignedJwtWithCertsAsync(
        token,
        certs,
        [...this.policy.audience],
        [...GOOGLE_ISSUERS],
        MAX_TOKEN_LIFETIME_SECONDS,
      );
      payload = ticket.getPayload();
    } catch (err) {
      return reject(classifyLibraryError(err));
    }
    return checkClaims(payload, this.policy, Date.now() / 1000);
  }
}

function keyIdOf(token: string): string {
  const header = decodeSegment(token.split('.')[0]);
  const kid = (header as { kid?: unknown } | undefined)?.kid;
  return typeof kid === 'string' ? kid : '';
}

/** google-auth-library's messages embed the token and its payload; map them to short reasons that do not. */
function classifyLibraryError(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const rules: Array<[RegExp, string]> = [
    [/^No pem found for envelope/, "token was signed by an unknown key (not one of Google's current signing keys)"],
    [/^Invalid token signature/, 'token signature is invalid'],
    [/^Token used too late/, 'token has expired'],
    [/^Token used too early/, 'token is not valid yet (iat is in the future)'],
    [/^Expiration time too far in future/, 'token lifetime is too long for a Google ID token'],
    [/^Invalid issuer/, 'token was not issued by Google (iss)'],
    [
      /^Wrong recipient/,
      'token audience (aud) does not match this service: mint it for the service URL, e.g. gcloud auth print-identity-token --audiences=URL',
    ],
    [/^No issue time|^No expiration time|^iat field|^exp field/, 'token lacks a valid iat or exp claim'],
    [/^Wrong number of segments|^Can't parse/, 'token is not a well-formed JWT'],
  ];
  return rules.find(([re]) => re.test(message))?.[1] ?? 'token verification failed';
}
