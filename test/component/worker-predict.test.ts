import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyWorld, validFeatureValues, type TinyWorld } from '../helpers/tiny-world.js';
import { envelope, knownBatches, startTestWorker, type TestWorker } from '../helpers/worker.js';
import { LocalBus } from '../../shared/adapters/local-bus/local-bus.js';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime.js';
import { WarehouseError, type Warehouse } from '../../shared/ports/warehouse.js';
import type { ModelRuntime } from '../../shared/ports/model-runtime.js';
import { addDays } from '../../shared/dates/game-date.js';
import { overrideWarehouse } from '../helpers/warehouse-faults.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
let world: TinyWorld;
let bus: LocalBus;
let worker: TestWorker;
let failInserts: Error | null = null;

beforeAll(async () => {
  world = await createTinyWorld({ gameDate: today, players: 3 });
  const inner = world.warehouse;
  const warehouse = overrideWarehouse(inner, { insert: (r) => (failInserts ? Promise.reject(failInserts) : inner.insert(r)) });
  bus = new LocalBus();
  worker = await startTestWorker(world.modelsDir, {
    warehouse,
    bus,
    batchReader: knownBatches({ batch_ended: 'failed', batch_superseded: 'superseded', batch_consolidating: 'consolidating' }),
  });
});

afterAll(async () => {
  await worker.close();
  await bus.close();
  await world.warehouse.close();
});

const player = (patch: Record<string, unknown> = {}) => ({
  game_id: world.gameIds[0],
  player_lookup: 'player001',
  line_values: [15.5],
  line_source: 'ACTUAL_PROP',
  line_source_api: 'ODDS_API',
  sportsbook: 'DRAFTKINGS',
  was_line_fallback: false,
  line_minutes_before_game: 60,
  features: validFeatureValues(15),
  feature_quality: {
    feature_quality_score: 95,
    is_quality_ready: true,
    quality_alert_level: 'green',
    matchup_quality_pct: 90,
    default_feature_count: 0,
    required_default_count: 0,
    vegas_line_source: 'odds_api',
  },
  ...patch,
});

const message = (players: Array<Record<string, unknown>>, patch: Record<string, unknown> = {}) => ({
  batch_id: 'batch_test',
  correlation_id: 'corr',
  game_date: today,
  players,
  ...patch,
});

/** The one-player message operators wrote by hand before messages carried several: still read. */
const legacy = (patch: Record<string, unknown> = {}) => ({
  batch_id: 'batch_test',
  correlation_id: 'corr',
  game_date: today,
  ...player(patch),
});

async function stagingRows(playerLookup: string) {
  return world.warehouse.query({
    name: 't',
    sql: `SELECT * FROM {{nba_predictions.prediction_staging}} WHERE player_lookup = '${playerLookup}' ORDER BY system_id, prediction_id`,
  });
}

type Completion = {
  batch_id: string;
  game_date: string;
  players: Array<{ player_lookup: string; kind: string; predictions: number; staged_rows: number; reason: string | null }>;
};
const completions = () => bus.published('prediction-ready').map((m) => m.data as Completion);
const lastPlayers = () => completions().at(-1)?.players ?? [];

describe('POST /predict ack matrix', () => {
  it('acks malformed envelopes, bodies that are not JSON objects, and messages missing required fields with 204, and publishes no completion', async () => {
    const before = completions().length;
    expect(await worker.push({})).toBe(204);
    expect(await worker.push('{')).toBe(204);
    expect(await worker.push('null')).toBe(204);
    expect(await worker.push({ message: { data: 'not base64 json!' } })).toBe(204);
    const { player_lookup: _omit, ...noPlayer } = player();
    expect(await worker.push(envelope(message([noPlayer])))).toBe(204);
    expect(await worker.push(envelope(message([player()], { game_date: '2026-12-32' })))).toBe(204);
    expect(completions().length).toBe(before);
  });

  it("writes one row per model per line, then publishes one completion with each player's count", async () => {
    expect(await worker.push(envelope(message([player({ player_lookup: 'player002', line_values: [14.5, 15.5] })])))).toBe(204);
    const rows = await stagingRows('player002');
    expect(rows).toHaveLength(3 * 2);
    expect(new Set(rows.map((r) => r.system_id))).toEqual(new Set(world.systems));
    expect(completions().at(-1)).toMatchObject({
      batch_id: 'batch_test',
      players: [{ player_lookup: 'player002', kind: 'predicted', predictions: 6, staged_rows: 6, reason: null }],
    });
  });

  it('predicts several players of one message together; a player that can never be predicted fails alone, its chunk-mates write', async () => {
    const bad = validFeatureValues(15);
    delete bad.points_avg_last_10;
    const players = [
      player({ player_lookup: 'chunk_a', line_values: [12.5] }),
      player({ player_lookup: 'chunk_b', features: bad }),
      player({ player_lookup: 'chunk_c', line_values: [1000.5] }), // does not fit NUMERIC(4,1): every row of the player is refused
      player({ player_lookup: 'chunk_d', line_values: [22.5] }),
    ];
    expect(await worker.push(envelope(message(players)))).toBe(204);
    expect(lastPlayers().map((p) => [p.player_lookup, p.kind, p.staged_rows])).toEqual([
      ['chunk_a', 'predicted', 3],
      ['chunk_b', 'skipped', 0],
      ['chunk_c', 'failed', 0],
      ['chunk_d', 'predicted', 3],
    ]);
    expect(lastPlayers()[1]?.reason).toMatch(/^invalid_features: missing base features: points_avg_last_10/);
    expect(lastPlayers()[2]?.reason).toMatch(/current_points_line: 1000.5 is out of range for NUMERIC\(4,1\)/);
    expect(await stagingRows('chunk_a')).toHaveLength(3);
    expect(await stagingRows('chunk_c')).toHaveLength(0);
    expect(await stagingRows('chunk_d')).toHaveLength(3);
  });

  it('a redelivered request writes byte-identical rows (same ids, same values)', async () => {
    const msg = envelope(message([player({ player_lookup: 'player003' })]), '77');
    expect(await worker.push(msg)).toBe(204);
    expect(await worker.push(msg)).toBe(204);
    const rows = await stagingRows('player003');
    expect(rows).toHaveLength(6);
    const [first, second] = [rows.filter((_, i) => i % 2 === 0), rows.filter((_, i) => i % 2 === 1)];
    expect(second).toEqual(first);
  });

  it('reads a one-player message written the old way (fields at the top level)', async () => {
    expect(await worker.push(envelope(legacy({ player_lookup: 'legacy1' })))).toBe(204);
    expect(lastPlayers()).toEqual([{ player_lookup: 'legacy1', kind: 'predicted', predictions: 3, staged_rows: 3, reason: null }]);
  });

  it('a genuine 20.0 line from a sportsbook is predicted, and a line without provenance is dropped', async () => {
    expect(await worker.push(envelope(message([player({ player_lookup: 'player005', line_values: [20.0] })])))).toBe(204);
    const rows = await stagingRows('player005');
    expect(rows.map((r) => r.current_points_line)).toEqual([20, 20, 20]);
    expect(
      await worker.push(
        envelope(
          message([
            player({
              player_lookup: 'player006',
              line_source: 'NO_PROP_LINE',
              line_source_api: null,
              sportsbook: null,
              line_values: [20.0],
            }),
          ]),
        ),
      ),
    ).toBe(204);
    expect(await stagingRows('player006')).toHaveLength(0);
    expect(lastPlayers()).toMatchObject([
      { player_lookup: 'player006', kind: 'skipped', predictions: 0, reason: expect.stringMatching(/^no_valid_lines/) },
    ]);
  });

  it('a transient staging write failure answers 5xx and publishes no completion; a permanent one fails the players, acked', async () => {
    const before = completions().length;
    failInserts = new WarehouseError('staging.append', 'backendError', 'QUERY_FAILED', { retryable: true });
    try {
      expect(await worker.push(envelope(message([player({ player_lookup: 'player007' })])))).toBe(503);
      expect(completions().length).toBe(before);
      failInserts = new WarehouseError('staging.append', 'row rejected: invalid value', 'INSERT_REJECTED', { retryable: false });
      expect(await worker.push(envelope(message([player({ player_lookup: 'player007' }), player({ player_lookup: 'player008' })])))).toBe(
        204,
      );
    } finally {
      failInserts = null;
    }
    expect(lastPlayers().map((p) => [p.player_lookup, p.kind])).toEqual([
      ['player007', 'failed'],
      ['player008', 'failed'],
    ]);
    expect(lastPlayers()[0]?.reason).toContain('staging write rejected: staging.append: row rejected: invalid value');
  });

  it('a request for a batch that has ended, or is consolidating, is acked without running a model or writing a row', async () => {
    const before = completions().length;
    expect(await worker.push(envelope(message([player({ player_lookup: 'after_reset' })], { batch_id: 'batch_ended' })))).toBe(204);
    expect(await worker.push(envelope(message([player({ player_lookup: 'after_reset' })], { batch_id: 'batch_superseded' })))).toBe(204);
    // Consolidating (every player reported, or /check-stalled completed it as it stood): no completion can count any more.
    expect(await worker.push(envelope(message([player({ player_lookup: 'after_reset' })], { batch_id: 'batch_consolidating' })))).toBe(204);
    expect(await stagingRows('after_reset')).toHaveLength(0);
    expect(completions().length).toBe(before);
  });

  it('without feature values in the request, loads the player from the feature store', async () => {
    const { features: _f, feature_quality: _q, ...bare } = player({ player_lookup: 'player001' });
    const { features: _g, feature_quality: _h, ...unknown } = player({ player_lookup: 'nobody' });
    expect(await worker.push(envelope(message([bare, unknown])))).toBe(204);
    expect(lastPlayers()).toMatchObject([
      { player_lookup: 'player001', kind: 'predicted', predictions: 3 },
      { player_lookup: 'nobody', kind: 'skipped', predictions: 0, reason: expect.stringMatching(/^no_features/) },
    ]);
  });

  it('reports readiness and the loaded models', async () => {
    expect((await fetch(`${worker.url}/ready`)).status).toBe(200);
    const models = (await (await fetch(`${worker.url}/models`)).json()) as {
      loaded: Array<{ system_id: string; champion: boolean }>;
      refused: unknown[];
    };
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
        return {
          featureNames: session.featureNames,
          metadata: session.metadata,
          inputWidth: session.inputWidth,
          close: () => session.close(),
          run: async () => Promise.reject(new Error('kernel exploded')),
        };
      },
    };
    const isoBus = new LocalBus();
    const w = await startTestWorker(iso.modelsDir, { warehouse: iso.warehouse, bus: isoBus, runtime: flaky });
    try {
      for (let i = 0; i < 6; i++)
        expect(await w.push(envelope(message([player({ player_lookup: `iso${i}`, game_id: iso.gameIds[0] })])))).toBe(204);
      const counts = isoBus.published('prediction-ready').map((m) => (m.data as Completion).players[0]?.predictions);
      expect(counts).toEqual([2, 2, 2, 2, 2, 2]);
      const view = (await (await fetch(`${w.url}/models`)).json()) as {
        loaded: Array<{ system_id: string; breaker: { state: string; consecutive_failures: number; last_error: string } }>;
      };
      const broken = view.loaded.find((m) => m.system_id === iso.systems[2]);
      expect(broken?.breaker).toMatchObject({ state: 'open', consecutive_failures: 5, last_error: 'kernel exploded' });
      expect(view.loaded.filter((m) => m.breaker.state === 'closed')).toHaveLength(2);
    } finally {
      await w.close();
      await isoBus.close();
      await iso.warehouse.close();
    }
  });
});

describe('transient failures and the game date', () => {
  it('answers 503 for today, but acks a game more than a day in the past with its players reported failed', async () => {
    const down = () => Promise.reject(new WarehouseError('features', 'feature store down', 'QUERY_FAILED', { retryable: true }));
    const failing: Warehouse = overrideWarehouse(world.warehouse, {
      query: (q) => (q.name === 'features' ? down() : world.warehouse.query(q)),
    });
    const isoBus = new LocalBus();
    const w = await startTestWorker(world.modelsDir, { warehouse: failing, bus: isoBus });
    const { features: _f, feature_quality: _q, ...bare } = player({ player_lookup: 'player008' });
    try {
      expect(await w.push(envelope(message([bare])))).toBe(503);
      expect(isoBus.published('prediction-ready')).toHaveLength(0);
      const old = addDays(today, -3);
      expect(await w.push(envelope(message([bare], { game_date: old })))).toBe(204);
      expect(isoBus.published('prediction-ready').at(-1)?.data).toMatchObject({
        game_date: old,
        players: [
          {
            player_lookup: 'player008',
            kind: 'failed',
            predictions: 0,
            reason: expect.stringMatching(/^stale_transient: feature store read failed: features: feature store down/),
          },
        ],
      });
    } finally {
      await w.close();
      await isoBus.close();
    }
  });
});
