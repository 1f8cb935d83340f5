import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTinyWorld, validFeatureValues, type TinyWorld } from '../helpers/tiny-world.js';
import { silentLogger } from '../helpers/stack.js';
import { LocalBus } from '../../shared/adapters/local-bus/local-bus.js';
import { FileModelStore } from '../../shared/adapters/file-model-store/file-model-store.js';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime.js';
import { ModelSet } from '../../services/worker/models/model-set.js';
import { loadRegistry } from '../../services/worker/models/registry-query.js';
import { FeatureCache } from '../../services/worker/predict/feature-cache.js';
import { createWorkerApp } from '../../services/worker/app.js';
import type { WorkerDeps } from '../../services/worker/deps.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import type { ModelRuntime } from '../../shared/ports/model-runtime.js';
import { systemClock } from '../../shared/ports/clock.js';
import { addDays, etDate } from '../../shared/dates/game-date.js';
import { overrideWarehouse } from '../helpers/warehouse-faults.js';

const today = etDate(new Date());
let world: TinyWorld;
let bus: LocalBus;
let server: Server;
let url: string;
let failInserts = false;

beforeAll(async () => {
  world = await createTinyWorld({ gameDate: today, players: 3 });
  const inner = world.warehouse;
  const warehouse = overrideWarehouse(inner, {
    insert: (r) => (failInserts ? Promise.reject(new Error('simulated staging outage')) : inner.insert(r)),
  });
  const models = new ModelSet();
  await models.load(await loadRegistry(warehouse), new FileModelStore(world.modelsDir), new OnnxModelRuntime({ intraOpNumThreads: 1 }), silentLogger, systemClock);
  bus = new LocalBus();
  const deps: WorkerDeps = { warehouse, bus, clock: systemClock, logger: silentLogger, models, features: new FeatureCache(warehouse, systemClock), settings: { readyTopic: 'ready', instance: 'test' } };
  server = createServer(createWorkerApp(deps));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await bus.close();
  await world.warehouse.close();
});

const request = (patch: Record<string, unknown> = {}) => ({
  batch_id: 'batch_test',
  correlation_id: 'corr',
  game_date: today,
  game_id: world.gameIds[0],
  player_lookup: 'player001',
  line_values: [15.5],
  line_source: 'ACTUAL_PROP',
  line_source_api: 'ODDS_API',
  sportsbook: 'DRAFTKINGS',
  was_line_fallback: false,
  line_minutes_before_game: 60,
  features: validFeatureValues(15),
  feature_quality: { feature_quality_score: 95, is_quality_ready: true, quality_alert_level: 'green', matchup_quality_pct: 90, default_feature_count: 0, required_default_count: 0, vegas_line_source: 'odds_api' },
  ...patch,
});

const envelope = (data: unknown, messageId = '1') => ({
  message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId, publishTime: '2026-11-22T12:00:00.000Z' },
  subscription: 'projects/local/subscriptions/test',
});

async function push(body: unknown): Promise<number> {
  const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return res.status;
}

async function stagingRows(player: string) {
  return world.warehouse.query({ name: 't', sql: `SELECT * FROM {{nba_predictions.prediction_staging}} WHERE player_lookup = '${player}' ORDER BY system_id, prediction_id` });
}

const completions = () => bus.published('ready').map((m) => m.data as Record<string, unknown>);

describe('POST /predict ack matrix', () => {
  it('acks malformed envelopes and messages missing required fields with 204 and publishes no completion', async () => {
    const before = completions().length;
    expect(await push({})).toBe(204);
    expect(await push({ message: { data: 'not base64 json!' } })).toBe(204);
    const { player_lookup: _omit, ...noPlayer } = request();
    expect(await push(envelope(noPlayer))).toBe(204);
    expect(completions().length).toBe(before);
  });

  it('writes one row per model per line, then publishes a completion with the count', async () => {
    expect(await push(envelope(request({ player_lookup: 'player002', line_values: [14.5, 15.5] })))).toBe(204);
    const rows = await stagingRows('player002');
    expect(rows).toHaveLength(3 * 2);
    expect(new Set(rows.map((r) => r.system_id))).toEqual(new Set(world.systems));
    expect(completions().at(-1)).toMatchObject({ batch_id: 'batch_test', player_lookup: 'player002', predictions_generated: 6, skip_reason: null });
  });

  it('a redelivered request writes byte-identical rows (same ids, same values)', async () => {
    const msg = envelope(request({ player_lookup: 'player003' }), '77');
    expect(await push(msg)).toBe(204);
    expect(await push(msg)).toBe(204);
    const rows = await stagingRows('player003');
    expect(rows).toHaveLength(6);
    const [first, second] = [rows.filter((_, i) => i % 2 === 0), rows.filter((_, i) => i % 2 === 1)];
    expect(second).toEqual(first);
  });

  it('a permanent skip (invalid features) is acked with a 0-prediction completion', async () => {
    const features = validFeatureValues(15);
    delete features.points_avg_last_10;
    expect(await push(envelope(request({ player_lookup: 'player004', features })))).toBe(204);
    expect(completions().at(-1)).toMatchObject({ player_lookup: 'player004', predictions_generated: 0, skip_reason: 'invalid_features' });
  });

  it('a genuine 20.0 line from a sportsbook is predicted, and a line without provenance is dropped', async () => {
    expect(await push(envelope(request({ player_lookup: 'player005', line_values: [20.0] })))).toBe(204);
    const rows = await stagingRows('player005');
    expect(rows.map((r) => r.current_points_line)).toEqual([20, 20, 20]);
    expect(await push(envelope(request({ player_lookup: 'player006', line_source: 'NO_PROP_LINE', line_source_api: null, sportsbook: null, line_values: [20.0] })))).toBe(204);
    expect(await stagingRows('player006')).toHaveLength(0);
    expect(completions().at(-1)).toMatchObject({ player_lookup: 'player006', predictions_generated: 0, skip_reason: 'no_valid_lines' });
  });

  it('a staging write failure answers 5xx and publishes no completion', async () => {
    const before = completions().length;
    failInserts = true;
    try {
      expect(await push(envelope(request({ player_lookup: 'player007' })))).toBe(503);
    } finally {
      failInserts = false;
    }
    expect(completions().length).toBe(before);
  });

  it('without feature values in the request, loads the player from the feature store', async () => {
    const { features: _f, feature_quality: _q, ...bare } = request({ player_lookup: 'player001' });
    expect(await push(envelope(bare))).toBe(204);
    expect(completions().at(-1)).toMatchObject({ player_lookup: 'player001', predictions_generated: 3 });
    const { features: _g, feature_quality: _h, ...unknown } = request({ player_lookup: 'nobody' });
    expect(await push(envelope(unknown))).toBe(204);
    expect(completions().at(-1)).toMatchObject({ player_lookup: 'nobody', predictions_generated: 0, skip_reason: 'no_features' });
  });

  it('reports readiness and the loaded models', async () => {
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    const models = (await (await fetch(`${url}/models`)).json()) as { loaded: Array<{ system_id: string; champion: boolean }>; refused: unknown[] };
    expect(models.loaded.map((m) => m.system_id)).toEqual(world.systems);
    expect(models.loaded[0]?.champion).toBe(true);
    expect(models.refused).toEqual([]);
  });
});

describe('a model that throws at inference', () => {
  it('is isolated: the other models still write, and its breaker opens after repeated failures', async () => {
    const iso = await createTinyWorld({ gameDate: today, players: 1 });
    const ort = new OnnxModelRuntime({ intraOpNumThreads: 1 });
    const flaky: ModelRuntime = {
      load: async (bytes) => {
        const session = await ort.load(bytes);
        if (session.metadata.family !== 'v12') return session;
        return { ...session, featureNames: session.featureNames, run: async () => Promise.reject(new Error('kernel exploded')) };
      },
    };
    const set = new ModelSet();
    await set.load(await loadRegistry(iso.warehouse), new FileModelStore(iso.modelsDir), flaky, silentLogger);
    const isoBus = new LocalBus();
    const app = createWorkerApp({ warehouse: iso.warehouse, bus: isoBus, clock: systemClock, logger: silentLogger, models: set, features: new FeatureCache(iso.warehouse, systemClock), settings: { readyTopic: 'ready', instance: 't' } });
    const srv = createServer(app);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope(request({ player_lookup: `iso${i}`, game_id: iso.gameIds[0] }))) });
        expect(res.status).toBe(204);
      }
      const counts = isoBus.published('ready').map((m) => (m.data as { predictions_generated: number }).predictions_generated);
      expect(counts).toEqual([2, 2, 2, 2, 2, 2]);
      const view = (await (await fetch(`${base}/models`)).json()) as { loaded: Array<{ system_id: string; breaker: { state: string; consecutive_failures: number; last_error: string } }> };
      const broken = view.loaded.find((m) => m.system_id === iso.systems[2]);
      expect(broken?.breaker).toMatchObject({ state: 'open', consecutive_failures: 5, last_error: 'kernel exploded' });
      expect(view.loaded.filter((m) => m.breaker.state === 'closed')).toHaveLength(2);
    } finally {
      await new Promise((r) => srv.close(r));
      await isoBus.close();
      await iso.warehouse.close();
    }
  });
});

describe('transient failures and the game date', () => {
  it('answers 503 for today, but acks a game more than a day in the past with a 0 completion', async () => {
    const before = completions().length;
    const { features: _f, feature_quality: _q, ...bare } = request({ player_lookup: 'player008' });
    const failing: Warehouse = { query: () => Promise.reject(new Error('feature store down')), queryWithWarnings: () => Promise.reject(new Error('feature store down')), insert: () => Promise.resolve(), transaction: () => Promise.resolve({ statements: [], warnings: [] }), close: () => Promise.resolve() };
    const models = new ModelSet();
    const app = createWorkerApp({ warehouse: failing, bus, clock: systemClock, logger: silentLogger, models, features: new FeatureCache(failing, systemClock), settings: { readyTopic: 'ready', instance: 't' } });
    const srv = createServer(app);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    const send = (body: unknown) => fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      expect((await send(envelope(bare))).status).toBe(503);
      expect(completions().length).toBe(before);
      const old = addDays(today, -3);
      expect((await send(envelope({ ...bare, game_date: old }))).status).toBe(204);
      expect(completions().at(-1)).toMatchObject({ player_lookup: 'player008', game_date: old, predictions_generated: 0, skip_reason: 'stale_transient: FEATURE_STORE_UNAVAILABLE' });
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
});
