import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GoogleIdTokenVerifier, HttpCertSource, StaticCertSource, checkClaims } from '../../shared/http/auth/id-token.js';
import { idTokenClaims, newSigningKey, signJwt, startCertServer, stripSignature, type CertServer } from '../helpers/oidc.js';

const AUD = 'https://coordinator.example.run.app';
const SA = 'scheduler@proj.iam.gserviceaccount.com';
const google = newSigningKey('google-key-1');
const attacker = newSigningKey('attacker-key');
let certs: CertServer;
let verifier: GoogleIdTokenVerifier;

beforeAll(async () => {
  certs = await startCertServer([google]);
  verifier = new GoogleIdTokenVerifier({ audience: [AUD], allowedEmails: [SA], certs: new HttpCertSource({ url: certs.url }) });
});
afterAll(async () => {
  await certs.close();
});

const now = () => Math.floor(Date.now() / 1000);

describe('GoogleIdTokenVerifier', () => {
  it('accepts a Google-signed token for the audience from an allowed, verified identity, fetching the keys once', async () => {
    const before = certs.fetches();
    for (let i = 0; i < 3; i++) {
      expect(await verifier.verify(signJwt(google, idTokenClaims(AUD, SA)))).toEqual({ ok: true, email: SA });
    }
    expect(certs.fetches() - before).toBeLessThanOrEqual(1);
  });

  it('matches the allowed email case-insensitively', async () => {
    expect(await verifier.verify(signJwt(google, idTokenClaims(AUD, SA.toUpperCase())))).toMatchObject({ ok: true });
  });

  const rejected: Array<[string, () => string, RegExp]> = [
    [
      'signed by another key under a known kid (forged)',
      () => signJwt(attacker, idTokenClaims(AUD, SA), google.kid),
      /signature is invalid/,
    ],
    ['signed by a key Google never published', () => signJwt(attacker, idTokenClaims(AUD, SA)), /unknown key/],
    [
      'expired (beyond the 5-minute skew)',
      () => signJwt(google, idTokenClaims(AUD, SA, { iat: now() - 4000, exp: now() - 400 })),
      /expired/,
    ],
    ['minted for another audience', () => signJwt(google, idTokenClaims('https://other.run.app', SA)), /audience/],
    [
      'from an identity not on the allow-list',
      () => signJwt(google, idTokenClaims(AUD, 'intruder@proj.iam.gserviceaccount.com')),
      /not allowed/,
    ],
    ['with email_verified false', () => signJwt(google, idTokenClaims(AUD, SA, { email_verified: false })), /not verified/],
    ['with email_verified as the string "true"', () => signJwt(google, idTokenClaims(AUD, SA, { email_verified: 'true' })), /not verified/],
    ['without an email claim', () => signJwt(google, idTokenClaims(AUD, SA, { email: undefined })), /no email claim/],
    ['from another issuer', () => signJwt(google, idTokenClaims(AUD, SA, { iss: 'https://evil.example.com' })), /issued by Google/],
    ['living longer than a Google ID token can', () => signJwt(google, idTokenClaims(AUD, SA, { exp: now() + 30 * 86400 })), /lifetime/],
    ['stripped of its signature by Cloud Run', () => stripSignature(signJwt(google, idTokenClaims(AUD, SA))), /removed by Cloud Run/],
    [
      'with an empty signature (alg none style)',
      () => `${signJwt(google, idTokenClaims(AUD, SA)).split('.').slice(0, 2).join('.')}.`,
      /signature is invalid|not a well-formed/,
    ],
    ['that is not a JWT at all', () => 'just-some-opaque-bearer-string', /not a JWT/],
  ];
  for (const [name, make, reason] of rejected) {
    it(`rejects a token ${name} with 401 and a reason that does not contain the token`, async () => {
      const token = make();
      const outcome = await verifier.verify(token);
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.status).toBe(401);
      expect(outcome.reason).toMatch(reason);
      expect(outcome.reason).not.toContain(token.split('.')[1] ?? token);
    });
  }

  it('when Google rotates to a key not yet cached, refetches the keys once and accepts the new key', async () => {
    const rotated = newSigningKey('google-key-2');
    let clock = Date.now();
    const source = new HttpCertSource({ url: certs.url, now: () => clock, minRefreshIntervalMs: 60_000 });
    const v = new GoogleIdTokenVerifier({ audience: [AUD], allowedEmails: [SA], certs: source });
    expect(await v.verify(signJwt(google, idTokenClaims(AUD, SA)))).toMatchObject({ ok: true });
    clock += 61_000; // still inside the keys' max-age, but past the minimum interval between refreshes
    certs.publish([google, rotated]);
    try {
      const before = certs.fetches();
      expect(await v.verify(signJwt(rotated, idTokenClaims(AUD, SA)))).toMatchObject({ ok: true });
      expect(certs.fetches() - before).toBe(1);
      // Random key ids do not make it refetch again and again.
      await v.verify(signJwt(attacker, idTokenClaims(AUD, SA), 'made-up-kid'));
      await v.verify(signJwt(attacker, idTokenClaims(AUD, SA), 'another-made-up-kid'));
      expect(certs.fetches() - before).toBe(1);
    } finally {
      certs.publish([google]);
    }
  });

  it('answers 503 (retry later), not 401, when the keys cannot be fetched', async () => {
    const v = new GoogleIdTokenVerifier({
      audience: [AUD],
      allowedEmails: [SA],
      certs: new HttpCertSource({ url: 'http://127.0.0.1:1/certs' }),
    });
    const outcome = await v.verify(signJwt(google, idTokenClaims(AUD, SA)));
    expect(outcome).toMatchObject({ ok: false, status: 503 });
  });

  it('keeps using recently expired keys when a refetch fails, then gives up (503)', async () => {
    const server = await startCertServer([google]);
    let clock = Date.now();
    const v = new GoogleIdTokenVerifier({
      audience: [AUD],
      allowedEmails: [SA],
      certs: new HttpCertSource({ url: server.url, now: () => clock }),
    });
    expect(await v.verify(signJwt(google, idTokenClaims(AUD, SA)))).toMatchObject({ ok: true });
    await server.close();
    clock += 2 * 3600 * 1000; // past the 1 h max-age: a refetch is attempted and fails
    expect(await v.verify(signJwt(google, idTokenClaims(AUD, SA)))).toMatchObject({ ok: true });
    clock += 24 * 3600 * 1000;
    expect(await v.verify(signJwt(google, idTokenClaims(AUD, SA)))).toMatchObject({ ok: false, status: 503 });
  });

  it('works with injected keys too (StaticCertSource)', async () => {
    const v = new GoogleIdTokenVerifier({
      audience: [AUD, 'https://custom.example.com'],
      allowedEmails: [SA],
      certs: new StaticCertSource({ [google.kid]: google.publicPem }),
    });
    expect(await v.verify(signJwt(google, idTokenClaims('https://custom.example.com', SA)))).toMatchObject({ ok: true });
  });

  it('refuses to be built without an audience or an allow-list', () => {
    const source = new StaticCertSource({});
    expect(() => new GoogleIdTokenVerifier({ audience: [], allowedEmails: [SA], certs: source })).toThrow(/audience/);
    expect(() => new GoogleIdTokenVerifier({ audience: [AUD], allowedEmails: [], certs: source })).toThrow(/allowed email/);
  });
});

describe('checkClaims (also used when Cloud Run IAM verified the signature)', () => {
  const policy = { audience: [AUD], allowedEmails: [SA] };
  it('accepts good claims and rejects each bad one', () => {
    const t = now();
    expect(checkClaims(idTokenClaims(AUD, SA), policy, t)).toEqual({ ok: true, email: SA });
    expect(checkClaims(idTokenClaims(AUD, SA, { exp: t - 301 }), policy, t)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expired/),
    });
    expect(checkClaims(idTokenClaims(AUD, SA, { aud: 'x' }), policy, t)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/audience/),
    });
    expect(checkClaims(undefined, policy, t)).toMatchObject({ ok: false });
  });
});
