/**
 * What a request leaves in the log, through the real coordinator over HTTP: every line written while serving it carries
 * its trace (and the batch once known), one access line per request, an error logged once with its stack in Error
 * Reporting's shape, and a response that carries a code and a message — never internals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTinyWorld, type TinyWorld } from '../helpers/tiny-world.js';
import { captureLogs } from '../helpers/oidc.js';
import { createLogger } from '../../shared/logging/logger.js';
import { loadCoordinatorConfig } from '../../services/coordinator/config.js';
import { buildCoordinatorApp, buildCoordinatorDeps, type CoordinatorRuntime } from '../../services/coordinator/wiring.js';
import { overrideWarehouse } from '../helpers/warehouse-faults.js';
import { REPORTED_ERROR_EVENT } from '../../shared/http/error-handler.js';
import { TEST_TODAY, testClock } from '../helpers/clock.js';

const today = TEST_TODAY;
const KEY = 'logging-test-key-0123456789abcdef';
const TRACE = '105445aa7843bc8bf206b12000100000';
const logs = captureLogs();
let world: TinyWorld;
let runtime: CoordinatorRuntime;
let server: Server;
let url: string;
let breakPlayers = false;

beforeAll(async () => {
  world = await createTinyWorld({ gameDate: today, players: 3 });
  const logger = createLogger({ service: 'prediction-coordinator', level: 'debug', destination: logs.destination });
  const warehouse = overrideWarehouse(world.warehouse, {
    query: (q) =>
      breakPlayers && q.name === 'players'
        ? Promise.reject(new TypeError("Cannot read properties of undefined (reading 'player_lookup')"))
        : world.warehouse.query(q),
  });
  runtime = await buildCoordinatorDeps(
    loadCoordinatorConfig({
      COORDINATOR_API_KEY: KEY,
      GCP_PROJECT_ID: 'demo-logs',
      WAREHOUSE: 'duckdb',
      BUS: 'local',
      BATCH_STORE: 'local',
      PUSH_AUTH: 'disabled',
    }),
    { logger, clock: testClock(), duckdb: world.warehouse, warehouse },
  );
  server = createServer(await buildCoordinatorApp(runtime));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await runtime.started({ coordinator: url });
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await runtime.close();
  await world.warehouse.close();
});

const post = (path: string, body: unknown, trace: string) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'x-cloud-trace-context': `${trace}/1;o=1` },
    body: JSON.stringify(body),
  });

describe('logs of a request', () => {
  it("every line written while serving /start carries the request's trace, the domain's lines its batch; one access line", async () => {
    const before = logs.lines().length;
    const res = await post('/start', { game_date: today }, TRACE);
    expect(res.status).toBe(202);
    const { batch_id: batchId } = (await res.json()) as { batch_id: string };
    const lines = logs
      .lines()
      .slice(before)
      .filter((l) => l['logging.googleapis.com/trace'] !== undefined || l.httpRequest !== undefined || l.batch_id === batchId);
    const traced = lines.filter((l) => l['logging.googleapis.com/trace'] === `projects/demo-logs/traces/${TRACE}`);
    expect(traced.length).toBeGreaterThan(3);
    // Lines of the request's own work: the dispatch event names the batch.
    expect(traced.find((l) => l.event === 'BATCH_DISPATCHED')).toMatchObject({ batch_id: batchId, game_date: today });
    const access = traced.filter((l) => l.httpRequest !== undefined);
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ severity: 'INFO', httpRequest: { requestMethod: 'POST', requestUrl: '/start', status: 202 } });
    // The raw line holds the key once (JSON.parse would keep the last of two, hiding a stale first one).
    const raw = logs
      .text()
      .split('\n')
      .filter((l) => l.includes('"requestUrl":"/start"'));
    expect(raw).toHaveLength(1);
    expect(raw[0]?.match(/"httpRequest"/g)).toHaveLength(1);
  });

  it('a programmer error answers 500 with a code and a message only, logged once with its stack for Error Reporting', async () => {
    breakPlayers = true;
    const trace = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb';
    const before = logs.lines().length;
    try {
      const res = await post('/start', { game_date: today, force: true }, trace);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({
        status: 'error',
        error: 'INTERNAL',
        message: "Cannot read properties of undefined (reading 'player_lookup')",
      });
    } finally {
      breakPlayers = false;
    }
    const lines = logs.lines().slice(before);
    const reported = lines.filter((l) => l['@type'] === REPORTED_ERROR_EVENT);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({
      severity: 'ERROR',
      serviceContext: { service: 'prediction-coordinator' },
      'logging.googleapis.com/trace': `projects/demo-logs/traces/${trace}`,
    });
    expect(String(reported[0]?.message)).toMatch(/^TypeError: Cannot read properties of undefined \(reading 'player_lookup'\)\n\s+at /);
  });

  it('a 4xx is a warning without a stack, and its body names the field, not internals', async () => {
    const before = logs.lines().length;
    const res = await post('/reset', { game_date: '2026-13-45' }, 'cccccccccccccccccccccccccccccccc');
    expect(res.status).toBe(400);
    expect(Object.keys((await res.json()) as object).sort()).toEqual(['error', 'fields', 'message', 'status']);
    const lines = logs.lines().slice(before);
    expect(lines.filter((l) => l['@type'] === REPORTED_ERROR_EVENT)).toEqual([]);
    expect(lines.find((l) => l.code === 'BAD_REQUEST')).toMatchObject({ severity: 'WARNING' });
  });
});
