/**
 * Authentication, body limits and log hygiene through the real Express apps over HTTP: the coordinator's operator
 * endpoints (X-API-Key or a Google ID token) and both push endpoints (Pub/Sub OIDC), with tokens signed by a local RSA key
 * whose public half is served from 127.0.0.1 as Google's certs endpoint would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { validFeatureValues } from '../helpers/tiny-world.js';
import { captureLogs, idTokenClaims, newSigningKey, signJwt, startCertServer, stripSignature, type CertServer } from '../helpers/oidc.js';
import { createCoordinatorApp } from '../../services/coordinator/app.js';
import { createWorkerApp } from '../../services/worker/app.js';
import { createLogger } from '../../shared/logging/logger.js';
import { GoogleIdTokenVerifier, HttpCertSource } from '../../shared/http/auth/id-token.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
const KEY_NEW = 'new-operator-key-0123456789abcdef';
const KEY_OLD = 'old-operator-key-fedcba9876543210';
const COORDINATOR_URL = 'https://prediction-coordinator-abc-uc.a.run.app';
const WORKER_PUSH_AUD = 'https://prediction-worker-abc-uc.a.run.app/predict';
const COMPLETE_PUSH_AUD = 'https://prediction-coordinator-abc-uc.a.run.app/complete';
const OPERATOR = 'operator@example.com';
const SCHEDULER = 'scheduler@nba-props.iam.gserviceaccount.com';
const PUSH_SA = 'pubsub-push@nba-props.iam.gserviceaccount.com';
const PROJECT = 'nba-props';

const google = newSigningKey('google-1');
const forger = newSigningKey('forger');
const logs = captureLogs();
const tokensSent: string[] = [];

let t: TestStack;
let certs: CertServer;
let coordinator: Served;
let worker: Served;
let iamCoordinator: Served;

interface Served {
  url: string;
  server: Server;
}

async function serve(app: Express): Promise<Served> {
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  t = await startTestStack({ gameDate: today, players: 3 });
  certs = await startCertServer([google]);
  const source = new HttpCertSource({ url: certs.url });
  const logger = createLogger({ service: 'auth-test', level: 'debug', destination: logs.destination });
  const pushPolicy = (aud: string) => ({ audience: [aud], allowedEmails: [PUSH_SA] });
  coordinator = await serve(
    createCoordinatorApp(
      { ...t.stack.coordinator, logger },
      {
        operatorAuth: {
          apiKeys: [KEY_NEW, KEY_OLD],
          idTokens: new GoogleIdTokenVerifier({ audience: [COORDINATOR_URL], allowedEmails: [OPERATOR, SCHEDULER], certs: source }),
        },
        pushAuth: { mode: 'oidc', verifier: new GoogleIdTokenVerifier({ ...pushPolicy(COMPLETE_PUSH_AUD), certs: source }) },
        projectId: PROJECT,
      },
    ),
  );
  worker = await serve(
    createWorkerApp(
      { ...t.stack.worker, logger },
      {
        projectId: PROJECT,
        pushAuth: { mode: 'oidc', verifier: new GoogleIdTokenVerifier({ ...pushPolicy(WORKER_PUSH_AUD), certs: source }) },
      },
    ),
  );
  iamCoordinator = await serve(
    createCoordinatorApp(
      { ...t.stack.coordinator, logger },
      { operatorAuth: { apiKeys: [KEY_NEW] }, pushAuth: { mode: 'iam', policy: pushPolicy(COMPLETE_PUSH_AUD) } },
    ),
  );
});

afterAll(async () => {
  for (const s of [coordinator, worker, iamCoordinator]) {
    if (!s) continue;
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
  await certs?.close();
  await t?.close();
});

/** A token for `aud`/`email` signed by Google's (test) key; remembered so the log check can look for it. */
function token(aud: string, email: string, patch: Record<string, unknown> = {}, key = google, kid?: string): string {
  const jwt = signJwt(key, idTokenClaims(aud, email, patch), kid ?? key.kid);
  tokensSent.push(jwt);
  return jwt;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function call(
  base: Served,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const res = await fetch(`${base.url}${path}`, {
    method,
    headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body, headers: res.headers };
}

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const apiKey = (key: string) => ({ 'x-api-key': key });

const envelope = (data: unknown) => ({
  message: {
    data: Buffer.from(JSON.stringify(data)).toString('base64'),
    messageId: String(Math.random()),
    publishTime: new Date().toISOString(),
  },
  subscription: 'projects/nba-props/subscriptions/prediction-ready-push',
});

const completion = (batchId: string) =>
  envelope({
    batch_id: batchId,
    game_date: today,
    player_lookup: 'player001',
    predictions_generated: 3,
    timestamp: new Date().toISOString(),
  });

describe('operator endpoints: X-API-Key or Google ID token', () => {
  it('a valid API key (new or old, during a rotation) is accepted on every operator endpoint', async () => {
    const start = await call(coordinator, 'POST', '/start', { headers: apiKey(KEY_NEW), body: { game_date: today } });
    expect(start.status).toBe(202);
    expect((await call(coordinator, 'GET', '/status', { headers: apiKey(KEY_OLD) })).status).toBe(200);
    expect((await call(coordinator, 'POST', '/check-stalled', { headers: apiKey(KEY_OLD), body: {} })).status).toBe(200);
    const reset = await call(coordinator, 'POST', '/reset', { headers: apiKey(KEY_NEW), body: { batch_id: start.body.batch_id } });
    expect(reset.status).toBe(200);
  });

  it('a valid ID token from an allowed identity is accepted on every operator endpoint', async () => {
    const start = await call(coordinator, 'POST', '/start', {
      headers: bearer(token(COORDINATOR_URL, SCHEDULER)),
      body: { game_date: today, force: true },
    });
    expect(start.status).toBe(202);
    expect(
      (
        await call(coordinator, 'GET', `/status?batch_id=${String(start.body.batch_id)}`, {
          headers: bearer(token(COORDINATOR_URL, OPERATOR)),
        })
      ).status,
    ).toBe(200);
    expect(
      (await call(coordinator, 'POST', '/check-stalled', { headers: bearer(token(COORDINATOR_URL, OPERATOR)), body: {} })).status,
    ).toBe(200);
    expect(
      (await call(coordinator, 'POST', '/reset', { headers: bearer(token(COORDINATOR_URL, OPERATOR)), body: { game_date: today } })).status,
    ).toBe(200);
  });

  const refused: Array<[string, () => Record<string, string>, RegExp]> = [
    [
      'no credentials at all',
      () => ({}),
      /authentication required: send an X-API-Key header or an Authorization: Bearer <Google-signed ID token> header/,
    ],
    ['a wrong API key', () => apiKey('wrong-key-0123456789abcdef'), /invalid API key/],
    ['an empty API key', () => apiKey(''), /invalid API key/],
    [
      'a wrong API key next to a valid token (the key decides)',
      () => ({ ...apiKey('wrong-key-0123456789abcdef'), ...bearer(token(COORDINATOR_URL, OPERATOR)) }),
      /invalid API key/,
    ],
    ['a random bearer string', () => bearer('let-me-in-0123456789'), /not a JWT/],
    ['the API key sent as a bearer token', () => bearer(KEY_NEW), /not a JWT/],
    [
      'a Basic authorization header',
      () => ({ authorization: `Basic ${Buffer.from(`u:${KEY_NEW}`).toString('base64')}` }),
      /not "Bearer <token>"/,
    ],
    [
      "a token forged with another key under Google's kid",
      () => bearer(token(COORDINATOR_URL, OPERATOR, {}, forger, google.kid)),
      /signature is invalid/,
    ],
    ['a token signed by an unknown key', () => bearer(token(COORDINATOR_URL, OPERATOR, {}, forger)), /unknown key/],
    [
      'an expired token',
      () =>
        bearer(token(COORDINATOR_URL, OPERATOR, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })),
      /expired/,
    ],
    ['a token for another audience', () => bearer(token('https://some-other-service.a.run.app', OPERATOR)), /audience/],
    ['a token from an identity not on the list', () => bearer(token(COORDINATOR_URL, 'someone@example.com')), /not allowed/],
    ['a token whose email is not verified', () => bearer(token(COORDINATOR_URL, OPERATOR, { email_verified: false })), /not verified/],
    ['a token Cloud Run stripped of its signature', () => bearer(stripSignature(token(COORDINATOR_URL, OPERATOR))), /removed by Cloud Run/],
    ['a push token (right identity for /complete, wrong audience here)', () => bearer(token(COMPLETE_PUSH_AUD, PUSH_SA)), /audience/],
  ];
  for (const [name, headers, message] of refused) {
    it(`${name} → 401 with a message saying why, on /start and /status`, async () => {
      const start = await call(coordinator, 'POST', '/start', { headers: headers(), body: { game_date: today, force: true } });
      expect(start.status).toBe(401);
      expect(start.body).toMatchObject({ status: 'error', error: 'UNAUTHENTICATED' });
      expect(String(start.body.message)).toMatch(message);
      expect(start.headers.get('www-authenticate')).toBe('Bearer');
      expect((await call(coordinator, 'GET', '/status', { headers: headers() })).status).toBe(401);
    });
  }

  it('a service with API keys only says bearer tokens are not accepted, naming what is', async () => {
    const res = await call(iamCoordinator, 'GET', '/status', { headers: bearer(token(COORDINATOR_URL, OPERATOR)) });
    expect(res.status).toBe(401);
    expect(String(res.body.message)).toMatch(
      /bearer tokens are not accepted by this service \(OIDC is not configured\): send an X-API-Key header/,
    );
  });

  it('health endpoints stay open', async () => {
    expect((await call(coordinator, 'GET', '/health')).status).toBe(200);
    expect((await call(worker, 'GET', '/health')).status).toBe(200);
  });
});

describe('push endpoints: Pub/Sub OIDC token when configured', () => {
  const request = (player: string) => ({
    batch_id: 'batch_auth_test',
    correlation_id: 'corr',
    game_date: today,
    game_id: t.world.gameIds[0],
    player_lookup: player,
    line_values: [15.5],
    line_source: 'ACTUAL_PROP',
    line_source_api: 'ODDS_API',
    sportsbook: 'DRAFTKINGS',
    was_line_fallback: false,
    line_minutes_before_game: 60,
    features: validFeatureValues(15),
  });
  const completionsFor = (player: string) =>
    t.stack.bus
      .published(t.stack.topics.ready)
      .filter(
        (m) =>
          (m.data as { batch_id: string }).batch_id === 'batch_auth_test' &&
          (m.data as { players: Array<{ player_lookup: string }> }).players.some((p) => p.player_lookup === player),
      );

  it('/predict with a valid push token is processed: 204 and a completion event', async () => {
    const res = await call(worker, 'POST', '/predict', {
      headers: bearer(token(WORKER_PUSH_AUD, PUSH_SA)),
      body: envelope(request('player001')),
    });
    expect(res.status).toBe(204);
    expect(completionsFor('player001')).toHaveLength(1);
  });

  const bad: Array<[string, () => Record<string, string>, RegExp]> = [
    ['without a token', () => ({}), /Authorization: Bearer <Pub\/Sub OIDC token> is missing/],
    ['with a random bearer', () => bearer('not-a-token'), /not a JWT/],
    ['with a forged token', () => bearer(token(WORKER_PUSH_AUD, PUSH_SA, {}, forger, google.kid)), /signature is invalid/],
    [
      'with an expired token',
      () =>
        bearer(token(WORKER_PUSH_AUD, PUSH_SA, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })),
      /expired/,
    ],
    ["with the coordinator's push audience", () => bearer(token(COMPLETE_PUSH_AUD, PUSH_SA)), /audience/],
    ['from another service account', () => bearer(token(WORKER_PUSH_AUD, 'other@nba-props.iam.gserviceaccount.com')), /not allowed/],
    ['with email_verified false', () => bearer(token(WORKER_PUSH_AUD, PUSH_SA, { email_verified: false })), /not verified/],
    ['with an operator API key instead of a token', () => apiKey(KEY_NEW), /missing/],
  ];
  for (const [name, headers, message] of bad) {
    it(`/predict ${name} → 401 and nothing processed (Pub/Sub retries, then dead-letters)`, async () => {
      const player = 'player002';
      const before = completionsFor(player).length;
      const res = await call(worker, 'POST', '/predict', { headers: headers(), body: envelope(request(player)) });
      expect(res.status).toBe(401);
      expect(String(res.body.message)).toMatch(message);
      expect(completionsFor(player)).toHaveLength(before);
    });
  }

  it('/complete accepts a valid push token and refuses missing, foreign and misdirected ones', async () => {
    const ok = await call(coordinator, 'POST', '/complete', {
      headers: bearer(token(COMPLETE_PUSH_AUD, PUSH_SA)),
      body: completion('batch_nobody_knows'),
    });
    expect(ok).toMatchObject({ status: 200, body: { status: 'unknown_batch', batch_id: 'batch_nobody_knows' } });
    expect((await call(coordinator, 'POST', '/complete', { body: completion('batch_nobody_knows') })).status).toBe(401);
    expect(
      (await call(coordinator, 'POST', '/complete', { headers: bearer(token(WORKER_PUSH_AUD, PUSH_SA)), body: completion('b') })).status,
    ).toBe(401);
    expect(
      (await call(coordinator, 'POST', '/complete', { headers: bearer(token(COMPLETE_PUSH_AUD, OPERATOR)), body: completion('b') })).status,
    ).toBe(401);
  });

  it('PUSH_AUTH=iam: accepts the claims of a token Cloud Run verified (signature stripped), refuses an unverified one', async () => {
    const ok = await call(iamCoordinator, 'POST', '/complete', {
      headers: bearer(stripSignature(token(COMPLETE_PUSH_AUD, PUSH_SA))),
      body: completion('batch_iam'),
    });
    expect(ok).toMatchObject({ status: 200, body: { status: 'unknown_batch' } });
    const signed = await call(iamCoordinator, 'POST', '/complete', {
      headers: bearer(token(COMPLETE_PUSH_AUD, PUSH_SA)),
      body: completion('batch_iam'),
    });
    expect(signed.status).toBe(401);
    expect(String(signed.body.message)).toMatch(/IAM check did not verify it/);
    const wrongSa = await call(iamCoordinator, 'POST', '/complete', {
      headers: bearer(stripSignature(token(COMPLETE_PUSH_AUD, 'other@nba-props.iam.gserviceaccount.com'))),
      body: completion('b'),
    });
    expect(wrongSa.status).toBe(401);
  });

  it('when push auth is not configured (the embedded default), pushes without a token are accepted', async () => {
    const res = await fetch(`${t.stack.coordinatorUrl}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(completion('batch_open')),
    });
    expect(res.status).toBe(200);
  });
});

describe('body limits and content types', () => {
  const big = (bytes: number) => ({ game_date: today, correlation_id: 'x'.repeat(bytes) });

  it('an operator body over 64 kB → 413 naming the limit; authentication comes first', async () => {
    const res = await call(coordinator, 'POST', '/start', { headers: apiKey(KEY_NEW), body: big(70 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'PAYLOAD_TOO_LARGE' });
    expect(String(res.body.message)).toMatch(/limit of 65536 bytes/);
    expect((await call(coordinator, 'POST', '/start', { body: big(70 * 1024) })).status).toBe(401);
  });

  it('a push envelope over the 2 MB limit can never succeed: acked (204) and logged, never redelivered until it dead-letters', async () => {
    const before = t.stack.bus.published(t.stack.topics.ready).length;
    const res = await call(worker, 'POST', '/predict', {
      headers: bearer(token(WORKER_PUSH_AUD, PUSH_SA)),
      body: { message: { data: 'A'.repeat(2100 * 1024) } },
    });
    expect(res.status).toBe(204);
    expect(t.stack.bus.published(t.stack.topics.ready)).toHaveLength(before);
    expect(logs.lines().some((l) => l.event === 'POISON_MESSAGE' && /limit of 2097152 bytes/.test(String(l.message)))).toBe(true);
  });

  it('an operator body that is not JSON → 415, and no batch starts from defaults', async () => {
    const res = await call(coordinator, 'POST', '/start', {
      headers: { ...apiKey(KEY_NEW), 'content-type': 'application/x-www-form-urlencoded' },
      body: `game_date=${today}`,
    });
    expect(res.status).toBe(415);
    expect(String(res.body.message)).toMatch(/Content-Type: application\/json/);
  });

  it('request fields are validated with zod at the door (dataset prefix, batch id)', async () => {
    const prefix = await call(coordinator, 'POST', '/start', {
      headers: apiKey(KEY_NEW),
      body: { game_date: today, dataset_prefix: 'x; DROP TABLE' },
    });
    expect(prefix.status).toBe(400);
    expect(String(prefix.body.message)).toMatch(/dataset_prefix/);
    const status = await call(coordinator, 'GET', '/status?batch_id=../../etc', { headers: apiKey(KEY_NEW) });
    expect(status.status).toBe(400);
    expect(String(status.body.message)).toMatch(/batch_id/);
    // A push message with a bad dataset prefix is a poison message: acked (204) and never processed.
    const before = t.stack.bus.published(t.stack.topics.ready).length;
    const poison = await call(worker, 'POST', '/predict', {
      headers: bearer(token(WORKER_PUSH_AUD, PUSH_SA)),
      body: envelope({ ...request('player003'), dataset_prefix: 'Bad-Prefix' }),
    });
    expect(poison.status).toBe(204);
    expect(t.stack.bus.published(t.stack.topics.ready).length).toBe(before);
  });

  function request(player: string) {
    return {
      batch_id: 'batch_auth_test',
      correlation_id: 'corr',
      game_date: today,
      game_id: t.world.gameIds[0],
      player_lookup: player,
      line_values: [15.5],
      line_source: 'ACTUAL_PROP',
      line_source_api: 'ODDS_API',
      sportsbook: 'DRAFTKINGS',
      was_line_fallback: false,
      line_minutes_before_game: 60,
    };
  }
});

describe('logs', () => {
  it('carry the Cloud Trace field from X-Cloud-Trace-Context (or traceparent), and who authenticated', async () => {
    const trace = '105445aa7843bc8bf206b12000100000';
    await call(coordinator, 'GET', '/status', { headers: { 'x-cloud-trace-context': `${trace}/1;o=1` } });
    const line = logs.lines().find((l) => l['logging.googleapis.com/trace'] === `projects/${PROJECT}/traces/${trace}`);
    expect(line).toMatchObject({
      severity: 'WARNING',
      code: 'UNAUTHENTICATED',
      'logging.googleapis.com/spanId': '0000000000000001',
      'logging.googleapis.com/trace_sampled': true,
    });

    const w3c = '4bf92f3577b34da6a3ce929d0e0e4736';
    await call(coordinator, 'GET', '/status', {
      headers: { traceparent: `00-${w3c}-00f067aa0ba902b7-01`, ...bearer(token(COORDINATOR_URL, OPERATOR)) },
    });
    const authLine = logs
      .lines()
      .find((l) => l['logging.googleapis.com/trace'] === `projects/${PROJECT}/traces/${w3c}` && l.message === 'authenticated');
    expect(authLine).toMatchObject({ auth: 'oidc', principal: OPERATOR });
  });

  it('never contain an API key or a token, even when a handler logs the request headers', async () => {
    const logger = createLogger({ service: 'auth-test', level: 'debug', destination: logs.destination });
    const jwt = token(COORDINATOR_URL, OPERATOR);
    logger.info(
      { headers: { authorization: `Bearer ${jwt}`, 'x-api-key': KEY_NEW, 'x-serverless-authorization': `Bearer ${jwt}` } },
      'headers',
    );
    logger.info({ req: { headers: { authorization: `Bearer ${jwt}`, 'x-api-key': KEY_OLD } } }, 'request');
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    expect(text).toContain('[redacted]');
    for (const secret of [KEY_NEW, KEY_OLD, ...tokensSent]) {
      expect(text).not.toContain(secret);
      // Nor the signature part alone (a token's payload is not secret, its signature makes it a credential).
      const signature = secret.split('.')[2];
      if (signature) expect(text).not.toContain(signature);
    }
  });
});
