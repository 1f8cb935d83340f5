/**
 * A stand-in for Google's token issuer: RSA keys made with node:crypto, RS256 ID tokens signed with them (kid header), and
 * the public keys served as `{kid: pem}` from a 127.0.0.1 HTTP server — what OIDC_CERTS_URL points at in tests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicPem: string;
}

export function newSigningKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RS256 JWT over `claims`, signed by `key`; `kid` names the key (default: the signer's own). */
export function signJwt(key: SigningKey, claims: Record<string, unknown>, kid: string = key.kid): string {
  const signingInput = `${b64url({ alg: 'RS256', typ: 'JWT', kid })}.${b64url(claims)}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(key.privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}

/** Claims of a Google ID token minted one minute ago for `aud` and `email`, valid for an hour; `patch` overrides. */
export function idTokenClaims(aud: string, email: string, patch: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'https://accounts.google.com',
    aud,
    azp: '1234567890',
    sub: '1234567890',
    email,
    email_verified: true,
    iat: now - 60,
    exp: now + 3540,
    ...patch,
  };
}

/** What Cloud Run forwards after its invoker IAM check: the token with its signature replaced. */
export function stripSignature(token: string): string {
  return `${token.split('.').slice(0, 2).join('.')}.SIGNATURE_REMOVED_BY_GOOGLE`;
}

export interface CertServer {
  url: string;
  /** How many times the keys were fetched. */
  fetches(): number;
  /** Replace the published keys (a rotation). */
  publish(keys: SigningKey[]): void;
  close(): Promise<void>;
}

export async function startCertServer(keys: SigningKey[]): Promise<CertServer> {
  let published = keys;
  let count = 0;
  const server: Server = createServer((_req, res) => {
    count += 1;
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'public, max-age=3600');
    res.end(JSON.stringify(Object.fromEntries(published.map((k) => [k.kid, k.publicPem]))));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/v1/certs`,
    fetches: () => count,
    publish: (next) => {
      published = next;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A log destination that keeps every line, for asserting what was (and was not) logged. */
export function captureLogs(): { destination: { write(line: string): void }; text(): string; lines(): Array<Record<string, unknown>> } {
  const lines: string[] = [];
  return {
    destination: { write: (line: string) => void lines.push(line) },
    text: () => lines.join(''),
    lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
