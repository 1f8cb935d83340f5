/**
 * Property-based tests of every HTTP entry, through the real apps over loopback: fuzzed bodies, headers, push envelopes and
 * message fields never get a 5xx on /start or an operator route (bad input is a 4xx), and a push that can never succeed
 * is acked (2xx) — never answered with a status Pub/Sub would redeliver until it dead-letters. The seed is fixed so CI is
 * repeatable; FUZZ_SEED=<n> explores others, FUZZ_RUNS=<n> runs more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { startTestStack, API_KEY, type TestStack } from '../helpers/stack.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
const seed = Number(process.env.FUZZ_SEED ?? 20261130);
const numRuns = Number(process.env.FUZZ_RUNS ?? 60);
let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ gameDate: today, players: 3 });
});
afterAll(async () => {
  await t?.close();
});

async function send(
  base: string,
  method: string,
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
): Promise<number> {
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined || method === 'GET' ? {} : { body }) });
  await res.arrayBuffer();
  return res.status;
}

/** Any JSON value, strings biased toward the shapes the services parse (dates, ids, modes). */
const jsonValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    '2026-12-32',
    '2027-02-30',
    '2026-13-45',
    '0000-00-00',
    'TODAY',
    'TOMORROW',
    today,
    '',
    'x'.repeat(300),
    'batch_1',
    '../../etc',
  ),
);
const operatorBody = fc.oneof(
  fc.dictionary(
    fc.constantFrom(
      'game_date',
      'force',
      'prediction_run_mode',
      'dataset_prefix',
      'player_lookups',
      'batch_id',
      'trigger_source',
      'min_minutes',
      'stall_threshold_minutes',
      'min_completion_pct',
      'max_batch_age_minutes',
      'unknown_field',
      '__proto__',
      'constructor',
    ),
    jsonValue,
  ),
  jsonValue,
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=klingon',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
);
const contentEncoding = fc.constantFrom('', 'gzip', 'deflate', 'br', 'x-unknown');

interface Shaped {
  body: string | Buffer;
  headers: Record<string, string>;
}

/** A body and its headers: sometimes honest (JSON, gzipped when it says so), sometimes lying (gzip that is not gzip, a charset that does not exist). */
const shaped = (value: fc.Arbitrary<unknown>, extra: Record<string, string>): fc.Arbitrary<Shaped> =>
  fc
    .record({
      value,
      raw: fc.option(fc.string({ maxLength: 50 }), { nil: undefined }),
      type: contentType,
      encoding: contentEncoding,
      honestGzip: fc.boolean(),
    })
    .map(({ value: v, raw, type, encoding, honestGzip }) => {
      const text = raw ?? JSON.stringify(v) ?? 'null';
      const headers: Record<string, string> = { ...extra };
      if (type) headers['content-type'] = type;
      if (encoding) headers['content-encoding'] = encoding;
      const body = encoding === 'gzip' && honestGzip ? gzipSync(Buffer.from(text)) : text;
      return { body, headers };
    });

describe('fuzzed operator calls never get a 5xx', () => {
  const routes: Array<[string, string]> = [
    ['POST', '/start'],
    ['POST', '/reset'],
    ['POST', '/check-stalled'],
    ['POST', '/redrive'],
    ['GET', '/status'],
    ['GET', '/capacity'],
  ];
  it('bodies, content types, charsets and encodings: a 2xx or a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        shaped(operatorBody, { 'x-api-key': API_KEY }),
        async ([method, path], { body, headers }) => {
          const status = await send(t.stack.coordinatorUrl, method, path, body, headers);
          expect(status, `${method} ${path} ${String(body).slice(0, 200)} ${JSON.stringify(headers)}`).toBeLessThan(500);
        },
      ),
      { seed, numRuns },
    );
  });

  it('query strings of /status: a 2xx or a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('batch_id', 'game_date', 'players', 'x'),
          fc.oneof(
            fc.string(),
            jsonValue.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null'))),
          ),
        ),
        async (query) => {
          const qs = new URLSearchParams(query).toString();
          const status = await send(t.stack.coordinatorUrl, 'GET', `/status?${qs}`, undefined, { 'x-api-key': API_KEY });
          expect(status, qs).toBeLessThan(500);
        },
      ),
      { seed, numRuns },
    );
  });

  it('the cases the issue names answer a 4xx naming what is wrong', async () => {
    const start = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${t.stack.coordinatorUrl}/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    expect((await start({ game_date: '2026-12-32' })).status).toBe(400);
    expect((await start({ game_date: '2027-02-30' })).status).toBe(400);
    const prefix = await start({ game_date: today, dataset_prefix: 'nosuchprefix' });
    expect(prefix.status).toBe(400);
    expect(await prefix.json()).toMatchObject({ error: 'BAD_REQUEST', field: 'dataset_prefix' });
    expect((await start('{}', { 'content-type': 'application/json; charset=klingon' })).status).toBe(415);
    expect((await start('{}', { 'content-encoding': 'x-unknown' })).status).toBe(415);
    expect((await start('not gzip at all', { 'content-encoding': 'gzip' })).status).toBe(400);
    const reset = await fetch(`${t.stack.coordinatorUrl}/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ game_date: '2026-13-45' }),
    });
    expect(reset.status).toBe(400);
    expect(await reset.json()).toMatchObject({ fields: ['game_date'] });
    expect((await fetch(`${t.stack.coordinatorUrl}/status?game_date=2026-13-45`, { headers: { 'x-api-key': API_KEY } })).status).toBe(400);
  });
});

describe('fuzzed pushes that can never succeed are acked', () => {
  const playerFields = fc.record(
    {
      game_id: fc.oneof(fc.constant('G1'), jsonValue),
      player_lookup: fc.oneof(fc.constantFrom('player000', 'player001'), jsonValue),
      line_values: fc.oneof(fc.array(fc.oneof(fc.double(), fc.constant(null), fc.constant(1e6))), jsonValue),
      line_source: fc.oneof(fc.constantFrom('ACTUAL_PROP', 'NO_PROP_LINE'), jsonValue),
      line_source_api: fc.oneof(fc.constantFrom('ODDS_API', null), jsonValue),
      sportsbook: fc.oneof(fc.constant('DRAFTKINGS'), jsonValue),
      was_line_fallback: fc.oneof(fc.boolean(), jsonValue),
      line_minutes_before_game: fc.oneof(fc.integer(), jsonValue),
      features: fc.oneof(
        fc.dictionary(fc.constantFrom('points_avg_season', 'nope', 'vegas_points_line'), fc.oneof(fc.double(), fc.constant(null))),
        jsonValue,
      ),
    },
    { requiredKeys: [] },
  );
  const message = fc.oneof(
    jsonValue,
    fc.record(
      {
        batch_id: fc.oneof(fc.constantFrom('batch_fuzz', ''), jsonValue),
        correlation_id: fc.oneof(fc.constant('c'), jsonValue),
        game_date: fc.oneof(fc.constantFrom(today, '2026-12-32', '2027-02-30'), jsonValue),
        players: fc.oneof(fc.array(playerFields, { maxLength: 3 }), jsonValue),
        reason: jsonValue,
        timestamp: jsonValue,
      },
      { requiredKeys: [] },
    ),
  );
  const envelope = fc.oneof(
    message.map((m) => ({
      message: { data: Buffer.from(JSON.stringify(m) ?? 'null').toString('base64'), messageId: '1', publishTime: new Date().toISOString() },
      subscription: 'fuzz',
    })),
    fc.record(
      {
        message: fc.oneof(
          jsonValue,
          fc.record({ data: fc.oneof(fc.base64String(), jsonValue), attributes: jsonValue }, { requiredKeys: [] }),
        ),
        subscription: jsonValue,
      },
      { requiredKeys: [] },
    ),
    jsonValue,
  );

  it('every push route acks a poison envelope, body or message with a 2xx', async () => {
    const routes = [
      [t.stack.coordinatorUrl, '/complete'],
      [t.stack.coordinatorUrl, '/consolidate'],
      [t.stack.coordinatorUrl, '/dead-letter'],
      [t.stack.workerUrl, '/predict'],
    ] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), shaped(envelope, {}), async ([base, path], { body, headers }) => {
        const status = await send(base, 'POST', path, body, headers);
        expect(status, `${path} ${String(body).slice(0, 300)} ${JSON.stringify(headers)}`).toBeGreaterThanOrEqual(200);
        expect(status, `${path} ${String(body).slice(0, 300)} ${JSON.stringify(headers)}`).toBeLessThan(300);
      }),
      { seed, numRuns: numRuns * 2 },
    );
  });
});
