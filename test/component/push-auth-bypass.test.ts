/**
 * No way around push authentication: every way a caller could try to get a push past `/predict` and `/complete` without
 * being Pub/Sub's push identity, per mode, through the real apps over HTTP. Tokens are signed by a local RSA key served as
 * Google's certs endpoint; "Cloud Run verified it" is represented the way Cloud Run hands it over — the signature replaced
 * by SIGNATURE_REMOVED_BY_GOOGLE. What the app cannot see (whether Cloud Run's IAM check ran) is pinned on the deploy side
 * by test/unit/cloudbuild.test.ts (the worker keeps `--invoker-iam-check`), and `PUSH_AUTH=disabled` on Cloud Run is
 * refused by the config (last test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { validFeatureValues } from '../helpers/tiny-world.js';
import { idTokenClaims, newSigningKey, signJwt, startCertServer, stripSignature, type CertServer } from '../helpers/oidc.js';
import { createWorkerApp } from '../../services/worker/app.js';
import { createCoordinatorApp } from '../../services/coordinator/app.js';
import { loadWorkerConfig } from '../../services/worker/config.js';
import { loadCoordinatorConfig } from '../../services/coordinator/config.js';
import { GoogleIdTokenVerifier, HttpCertSource } from '../../shared/http/auth/id-token.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
const WORKER_AUD = 'https://prediction-worker-prod-123456.us-west2.run.app';
const COORDINATOR_AUD = 'https://prediction-coordinator-prod-123456.us-west2.run.app';
const PUSHER = 'prediction-pubsub-push@nba-props.iam.gserviceaccount.com';
const INVOKER = 'someone-with-run-invoker@nba-props.iam.gserviceaccount.com';

const google = newSigningKey('google-1');
const attacker = newSigningKey('attacker');

let t: TestStack;
let certs: CertServer;
let iamWorker: Served;
let oidcWorker: Served;
let oidcCoordinator: Served;

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
  const policy = (aud: string) => ({ audience: [aud], allowedEmails: [PUSHER] });
  iamWorker = await serve(
    createWorkerApp(t.stack.worker, { projectId: 'nba-props', pushAuth: { mode: 'iam', policy: policy(WORKER_AUD) } }),
  );
  oidcWorker = await serve(
    createWorkerApp(t.stack.worker, {
      projectId: 'nba-props',
      pushAuth: { mode: 'oidc', verifier: new GoogleIdTokenVerifier({ ...policy(WORKER_AUD), certs: source }) },
    }),
  );
  oidcCoordinator = await serve(
    createCoordinatorApp(t.stack.coordinator, {
      operatorAuth: { apiKeys: ['bypass-test-operator-key-0123'] },
      pushAuth: { mode: 'oidc', verifier: new GoogleIdTokenVerifier({ ...policy(COORDINATOR_AUD), certs: source }) },
      projectId: 'nba-props',
    }),
  );
});

afterAll(async () => {
  for (const s of [iamWorker, oidcWorker, oidcCoordinator]) {
    if (!s) continue;
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
  await certs?.close();
  await t?.close();
});

const token = (aud: string, email: string, patch: Record<string, unknown> = {}, key = google, kid = google.kid) =>
  signJwt(key, idTokenClaims(aud, email, patch), kid);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A token anyone can write: Google-looking claims, no signature at all (`alg: none`). */
const unsigned = (aud: string, email: string) => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(idTokenClaims(aud, email))}.`;

let seq = 0;
const request = () => ({
  batch_id: 'batch_bypass_test',
  correlation_id: 'corr',
  game_date: today,
  game_id: t.world.gameIds[0],
  player_lookup: `player00${(seq++ % 3) + 1}`,
  line_values: [15.5],
  line_source: 'ACTUAL_PROP',
  line_source_api: 'ODDS_API',
  sportsbook: 'DRAFTKINGS',
  was_line_fallback: false,
  line_minutes_before_game: 60,
  features: validFeatureValues(15),
});
const envelope = (data: unknown) => ({
  message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId: `m-${seq++}`, publishTime: new Date().toISOString() },
  subscription: 'projects/nba-props/subscriptions/prediction-request-prod-push',
});
const completion = () =>
  envelope({
    batch_id: 'batch_nobody_knows',
    game_date: today,
    player_lookup: 'player001',
    predictions_generated: 3,
    timestamp: new Date().toISOString(),
  });

/** Every completion event the worker published for the bypass batch: a refused push must not add one. */
const workerCompletions = () =>
  t.stack.bus.published(t.stack.topics.ready).filter((m) => (m.data as Record<string, unknown>).batch_id === 'batch_bypass_test').length;

async function push(
  target: Served,
  path: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ status: number; message: string }> {
  const res = await fetch(`${target.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  return { status: res.status, message: String(parsed.message ?? '') };
}

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

describe('PUSH_AUTH=iam (the worker behind Cloud Run’s invoker IAM check)', () => {
  it('accepts the claims of the push token Cloud Run verified and stripped (the baseline every refusal below is measured against)', async () => {
    const before = workerCompletions();
    const res = await push(iamWorker, '/predict', bearer(stripSignature(token(WORKER_AUD, PUSHER))), envelope(request()));
    expect(res.status).toBe(204);
    expect(workerCompletions()).toBe(before + 1);
  });

  const refused: Array<[string, () => Record<string, string>, RegExp]> = [
    ['no Authorization header', () => ({}), /is missing/],
    ['a non-Bearer Authorization', () => ({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), /not "Bearer <token>"/],
    [
      'a token forged with another key, signature intact (nothing verified it)',
      () => bearer(token(WORKER_AUD, PUSHER, {}, attacker)),
      /still carries its signature/,
    ],
    [
      'a genuine Google token with its signature intact (the IAM check did not run)',
      () => bearer(token(WORKER_AUD, PUSHER)),
      /still carries its signature/,
    ],
    ['an unsigned alg:none token', () => bearer(unsigned(WORKER_AUD, PUSHER)), /still carries its signature/],
    [
      'a forged stripped pusher token in Authorization beside an invoker’s own token in X-Serverless-Authorization',
      () => ({
        ...bearer(stripSignature(token(WORKER_AUD, PUSHER, {}, attacker))),
        'x-serverless-authorization': `Bearer ${stripSignature(token(WORKER_AUD, INVOKER))}`,
      }),
      /X-Serverless-Authorization/,
    ],
    [
      'a genuine stripped pusher token with any X-Serverless-Authorization (Pub/Sub never sends it)',
      () => ({
        ...bearer(stripSignature(token(WORKER_AUD, PUSHER))),
        'x-serverless-authorization': `Bearer ${stripSignature(token(WORKER_AUD, PUSHER))}`,
      }),
      /X-Serverless-Authorization/,
    ],
    [
      'an empty X-Serverless-Authorization beside a stripped pusher token',
      () => ({ ...bearer(stripSignature(token(WORKER_AUD, PUSHER))), 'x-serverless-authorization': '' }),
      /X-Serverless-Authorization/,
    ],
    [
      'a stripped token of another identity (an invoker that is not the pusher)',
      () => bearer(stripSignature(token(WORKER_AUD, INVOKER))),
      /not allowed/,
    ],
    ['a stripped token for the coordinator’s audience', () => bearer(stripSignature(token(COORDINATOR_AUD, PUSHER))), /audience/],
    [
      'a stripped token that expired',
      () =>
        bearer(
          stripSignature(
            token(WORKER_AUD, PUSHER, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
          ),
        ),
      /expired/,
    ],
    [
      'a stripped token with email_verified false',
      () => bearer(stripSignature(token(WORKER_AUD, PUSHER, { email_verified: false }))),
      /not verified/,
    ],
    [
      'a stripped token from another issuer',
      () => bearer(stripSignature(token(WORKER_AUD, PUSHER, { iss: 'https://evil.example.com' }))),
      /not issued by Google/,
    ],
  ];
  for (const [name, headers, reason] of refused) {
    it(`refuses ${name}: 401, nothing processed`, async () => {
      const before = workerCompletions();
      const res = await push(iamWorker, '/predict', headers(), envelope(request()));
      expect(res.status).toBe(401);
      expect(res.message).toMatch(reason);
      expect(workerCompletions()).toBe(before);
    });
  }
});

describe('PUSH_AUTH=oidc (the token is verified in the app)', () => {
  it('accepts a genuine push token on /predict and /complete', async () => {
    expect((await push(oidcWorker, '/predict', bearer(token(WORKER_AUD, PUSHER)), envelope(request()))).status).toBe(204);
    expect((await push(oidcCoordinator, '/complete', bearer(token(COORDINATOR_AUD, PUSHER)), completion())).status).toBe(200);
  });

  const refused: Array<[string, () => Record<string, string>, RegExp]> = [
    [
      'a token forged with another key under Google’s key id',
      () => bearer(token(WORKER_AUD, PUSHER, {}, attacker, google.kid)),
      /signature is invalid/,
    ],
    [
      'a token signed by a key Google does not publish',
      () => bearer(token(WORKER_AUD, PUSHER, {}, attacker)),
      /invalid push token: token (signature is invalid|was signed by an unknown key)/,
    ],
    ['an unsigned alg:none token', () => bearer(unsigned(WORKER_AUD, PUSHER)), /invalid push token/],
    [
      'a stripped token (signature removed: nothing here can verify it)',
      () => bearer(stripSignature(token(WORKER_AUD, PUSHER))),
      /signature was removed/,
    ],
    ['a forged stripped token', () => bearer(stripSignature(token(WORKER_AUD, PUSHER, {}, attacker))), /signature was removed/],
    [
      'a genuine token beside an X-Serverless-Authorization header',
      () => ({ ...bearer(token(WORKER_AUD, PUSHER)), 'x-serverless-authorization': `Bearer ${token(WORKER_AUD, INVOKER)}` }),
      /X-Serverless-Authorization/,
    ],
    ['a genuine token of another identity', () => bearer(token(WORKER_AUD, INVOKER)), /not allowed/],
  ];
  for (const [name, headers, reason] of refused) {
    it(`/predict refuses ${name}: 401, nothing processed`, async () => {
      const before = workerCompletions();
      const res = await push(oidcWorker, '/predict', headers(), envelope(request()));
      expect(res.status).toBe(401);
      expect(res.message).toMatch(reason);
      expect(workerCompletions()).toBe(before);
    });
  }

  it('/complete refuses a forged, a stripped, and an X-Serverless-Authorization-carrying push', async () => {
    const forged = await push(oidcCoordinator, '/complete', bearer(token(COORDINATOR_AUD, PUSHER, {}, attacker, google.kid)), completion());
    const stripped = await push(oidcCoordinator, '/complete', bearer(stripSignature(token(COORDINATOR_AUD, PUSHER))), completion());
    const sideHeader = await push(
      oidcCoordinator,
      '/complete',
      { ...bearer(token(COORDINATOR_AUD, PUSHER)), 'x-serverless-authorization': 'Bearer x' },
      completion(),
    );
    expect([forged.status, stripped.status, sideHeader.status]).toEqual([401, 401, 401]);
    expect(sideHeader.message).toMatch(/X-Serverless-Authorization/);
  });
});

describe('PUSH_AUTH=disabled', () => {
  it('is refused at boot on Cloud Run (K_SERVICE set), for both services, naming the variable', () => {
    const worker = () =>
      loadWorkerConfig({ GCP_PROJECT_ID: 'nba-props', WAREHOUSE: 'duckdb', PUSH_AUTH: 'disabled', K_SERVICE: 'prediction-worker-prod' });
    const coordinator = () =>
      loadCoordinatorConfig({
        GCP_PROJECT_ID: 'nba-props',
        WAREHOUSE: 'duckdb',
        PUSH_AUTH: 'disabled',
        K_SERVICE: 'prediction-coordinator-prod',
        COORDINATOR_API_KEY: 'bypass-test-operator-key-0123',
      });
    expect(worker).toThrow(/PUSH_AUTH: push authentication cannot be disabled on Cloud Run/);
    expect(coordinator).toThrow(/PUSH_AUTH: push authentication cannot be disabled on Cloud Run/);
    // Off Cloud Run (the emulator tests, the local stack) the explicit opt-out still works.
    expect(loadWorkerConfig({ GCP_PROJECT_ID: 'nba-props', WAREHOUSE: 'duckdb', PUSH_AUTH: 'disabled' }).PUSH_AUTH).toBe('disabled');
  });
});
