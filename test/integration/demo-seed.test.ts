import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import * as ort from 'onnxruntime-node';
import { evaluateBatch } from '../../shared/catboost/evaluator.js';
import { readOnnxMetadata, writeOnnx } from '../../shared/catboost/onnx-writer.js';
import { buildTrainingSet, familyMatrix } from '../../bin/demo/demo-models.js';
import { trainObliviousBoosting } from '../../bin/demo/trainer.js';
import { generateWorld } from '../../bin/demo/world.js';
import { param } from '../../shared/ports/warehouse.js';
import { DEMO_MODELS } from '../../bin/demo/demo-models.js';
import { ensureDemoWorld, seedWorld, type SeedWorldOptions } from '../../bin/demo/seed-world.js';
import { WORLD_TABLE_IDS } from '../../bin/demo/world.js';

describe('a demo model in onnxruntime', () => {
  it('scores like the plain evaluator (NaN vegas lines included)', async () => {
    const examples = buildTrainingSet(
      generateWorld({ slateDates: ['2026-02-22'], today: '2026-02-22', games: 1, historyDays: 40 }).history,
    );
    const x = familyMatrix(examples, 'v9');
    const y = Float64Array.from(examples.map((e) => e.points));
    const model = trainObliviousBoosting(
      { x, y, rows: examples.length, featureNames: Array.from({ length: 33 }, (_, i) => `f${i}`) },
      { trees: 20, depth: 6, learningRate: 0.1, loss: 'rmse' },
    );
    const session = await ort.InferenceSession.create(writeOnnx(model, { family: 'v9' }));
    const out = await session.run({ features: new ort.Tensor('float32', x, [examples.length, 33]) });
    const onnx = out.predictions!.data as Float32Array;
    const plain = evaluateBatch(model, x, examples.length);
    let worst = 0;
    for (let i = 0; i < examples.length; i++) worst = Math.max(worst, Math.abs(onnx[i]! - plain[i]!));
    expect(worst).toBeLessThan(1e-3);
  });
});

describe('seedWorld on an in-memory DuckDB (2-game slate)', () => {
  let warehouse: DuckDbWarehouse;
  let modelsDir: string;
  let opts: SeedWorldOptions;

  beforeAll(async () => {
    warehouse = await DuckDbWarehouse.open({ path: ':memory:' });
    modelsDir = await mkdtemp(join(tmpdir(), 'demo-models-'));
    opts = { warehouse, modelsDir, slateDates: ['2026-02-22'], today: '2026-02-22', games: 2, trees: 5, historyDays: 40 };
  });
  afterAll(async () => {
    await warehouse.close();
    await rm(modelsDir, { recursive: true, force: true });
  });

  it('inserts every table and the registry, then does nothing on the second call', async () => {
    const first = await seedWorld(opts);
    expect(first.action).toBe('seeded');
    expect(first.games).toBe(2);
    expect(first.candidates).toBeGreaterThanOrEqual(60);
    for (const id of [...WORLD_TABLE_IDS, 'nba_predictions.model_registry']) {
      const [row] = await warehouse.query({ name: 'test.count', sql: `SELECT COUNT(*) AS n FROM {{${id}}}` });
      expect(Number(row?.n), id).toBeGreaterThan(0);
      expect(Number(row?.n), id).toBe(first.rows[id]);
    }
    const registry = await warehouse.query({
      name: 'test.registry',
      sql: 'SELECT model_id, gcs_path, sha256_hash, is_production, enabled, status, feature_count, feature_set, quantile_alpha FROM {{nba_predictions.model_registry}} ORDER BY model_id',
    });
    expect(registry.map((r) => r.model_id).sort()).toEqual(DEMO_MODELS.map((m) => m.modelId).sort());
    expect(registry.filter((r) => r.is_production === true).map((r) => r.model_id)).toEqual(['catboost_v9_demo']);
    const counts = Object.fromEntries(registry.map((r) => [String(r.model_id), r.feature_count]));
    expect(counts).toMatchObject({ catboost_v9_demo: 33, catboost_v12_noveg_demo: 50, catboost_v12_demo: 54, catboost_v9_q43_demo: 33 });
    for (const r of registry) {
      const meta = readOnnxMetadata(await readFile(join(modelsDir, String(r.gcs_path))));
      expect(meta.model_id).toBe(r.model_id);
      expect(JSON.parse(meta.feature_names ?? '[]')).toHaveLength(Number(r.feature_count));
    }

    const lines: string[] = [];
    const second = await seedWorld({ ...opts, log: (l) => lines.push(l) });
    expect(second.action).toBe('present');
    expect(second.rows).toEqual({});
    expect(lines.join('\n')).toMatch(/already present/);
    const [row] = await warehouse.query({
      name: 'test.count2',
      sql: 'SELECT COUNT(*) AS n FROM {{nba_raw.nbac_schedule}} WHERE game_date = @d',
      params: { d: param.date('2026-02-22') },
    });
    expect(Number(row?.n)).toBe(2);
    const [reg] = await warehouse.query({ name: 'test.count3', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.model_registry}}' });
    expect(Number(reg?.n)).toBe(DEMO_MODELS.length);
  });

  it('redoes only the models when a model file is missing, and they come out the same', async () => {
    const hashes = async () =>
      warehouse.query({
        name: 'test.hashes',
        sql: 'SELECT model_id, sha256_hash FROM {{nba_predictions.model_registry}} ORDER BY model_id',
      });
    const before = await hashes();
    await rm(join(modelsDir, 'catboost_v12_demo.onnx'));
    const third = await seedWorld(opts);
    expect(third.action).toBe('models');
    expect(await hashes()).toEqual(before);
    const [reg] = await warehouse.query({ name: 'test.count4', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.model_registry}}' });
    expect(Number(reg?.n)).toBe(DEMO_MODELS.length);
    expect((await seedWorld(opts)).action).toBe('present');
  });
});

describe('seedWorld with a season window', () => {
  const TODAY = '2026-03-10';
  const FROM = '2026-03-03';
  let warehouse: DuckDbWarehouse;
  let modelsDir: string;
  let opts: SeedWorldOptions;
  const count = async (sql: string, params: Record<string, string> = {}): Promise<number> => {
    const [row] = await warehouse.query({
      name: 'test.count',
      sql,
      params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, param.date(v)])),
    });
    return Number(row?.n);
  };
  /** A digest of every world table's rows dated before `date`, to prove they were not rewritten. */
  const snapshot = async (date: string): Promise<string> => {
    const parts: string[] = [];
    for (const id of WORLD_TABLE_IDS) {
      const col = id === 'nba_orchestration.game_postponements' ? 'original_date' : 'game_date';
      const rows = await warehouse.query({
        name: 'test.snap',
        sql: `SELECT * FROM {{${id}}} WHERE ${col} < @d`,
        params: { d: param.date(date) },
      });
      parts.push(
        `${id}:${rows
          .map((r) => JSON.stringify(r))
          .sort()
          .join('\n')}`,
      );
    }
    return parts.join('\n');
  };
  const registry = () =>
    warehouse.query({
      name: 'test.registry',
      sql: 'SELECT model_id, sha256_hash, created_at FROM {{nba_predictions.model_registry}} ORDER BY model_id',
    });

  beforeAll(async () => {
    warehouse = await DuckDbWarehouse.open({ path: ':memory:' });
    modelsDir = await mkdtemp(join(tmpdir(), 'demo-season-'));
    opts = {
      warehouse,
      modelsDir,
      today: TODAY,
      from: FROM,
      to: '2026-03-11',
      games: 3,
      trees: 5,
      historyDays: 30,
      candidatesPerGame: [20, 24],
    };
  });
  afterAll(async () => {
    await warehouse.close();
    await rm(modelsDir, { recursive: true, force: true });
  });

  it('gives every date of the window games, candidates, lines from both sources and feature rows; past dates are final with box scores', async () => {
    const first = await seedWorld(opts);
    expect(first).toMatchObject({ action: 'seeded', first: FROM, last: '2026-03-11', dates: 9 });
    const perDate = await warehouse.query({
      name: 'test.per-date',
      sql: `SELECT s.game_date,
          COUNT(DISTINCT s.game_id) AS games,
          COUNT(DISTINCT CASE WHEN s.game_status = 3 THEN s.game_id END) AS finals,
          (SELECT COUNT(DISTINCT c.player_lookup) FROM {{nba_analytics.upcoming_player_game_context}} c WHERE c.game_date = s.game_date) AS candidates,
          (SELECT COUNT(*) FROM {{nba_raw.odds_api_player_points_props}} o WHERE o.game_date = s.game_date) AS odds,
          (SELECT COUNT(DISTINCT b.market_type) FROM {{nba_raw.bettingpros_player_points_props}} b WHERE b.game_date = s.game_date) AS bp_markets,
          (SELECT COUNT(*) FROM {{nba_predictions.ml_feature_store_v2}} f WHERE f.game_date = s.game_date) AS features,
          (SELECT COUNT(DISTINCT p.game_id) FROM {{nba_analytics.player_game_summary}} p WHERE p.game_date = s.game_date) AS boxed
        FROM {{nba_raw.nbac_schedule}} s WHERE s.game_date >= @from GROUP BY s.game_date ORDER BY s.game_date`,
      params: { from: param.date(FROM) },
    });
    expect(perDate.map((r) => r.game_date)).toEqual([
      '2026-03-03',
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
      '2026-03-07',
      '2026-03-08',
      '2026-03-09',
      TODAY,
      '2026-03-11',
    ]);
    for (const r of perDate) {
      const past = String(r.game_date) < TODAY;
      expect(Number(r.games), String(r.game_date)).toBeGreaterThan(0);
      expect(Number(r.finals), String(r.game_date)).toBe(past ? Number(r.games) : 0);
      expect(Number(r.boxed), String(r.game_date)).toBe(past ? Number(r.games) : 0);
      expect(Number(r.candidates), String(r.game_date)).toBeGreaterThanOrEqual(20 * Number(r.games));
      expect(Number(r.odds), String(r.game_date)).toBeGreaterThan(0);
      expect(Number(r.bp_markets), String(r.game_date)).toBe(4);
      expect(Number(r.features), String(r.game_date)).toBeGreaterThan(0.85 * Number(r.candidates));
    }
    // Trained once, on the history before the window.
    for (const r of await warehouse.query({
      name: 'test.training',
      sql: 'SELECT training_end_date FROM {{nba_predictions.model_registry}}',
    })) {
      expect(String(r.training_end_date) < FROM).toBe(true);
    }
    expect(await seedWorld(opts)).toMatchObject({ action: 'present', rows: {} });
    // A date inside the window needs nothing either.
    expect(await ensureDemoWorld({ ...opts, date: '2026-03-05' })).toMatchObject({ action: 'present' });
  });

  it('a day later, writes only the dates from the old today on: earlier dates, predictions and models stay as they were', async () => {
    const prediction = {
      prediction_id: 'p1',
      system_id: 'catboost_v9_demo',
      player_lookup: 'someone',
      game_date: '2026-03-05',
      game_id: 'g1',
      predicted_points: 12.5,
      confidence_score: 70,
      recommendation: 'OVER',
      is_active: true,
      created_at: '2026-03-05T15:00:00Z',
    };
    await warehouse.insert({ name: 'test.prediction', table: 'nba_predictions.player_prop_predictions', rows: [prediction] });
    const before = await snapshot(TODAY);
    const preGame = async (): Promise<string> => {
      const parts: string[] = [];
      for (const id of [
        'nba_analytics.upcoming_player_game_context',
        'nba_raw.odds_api_player_points_props',
        'nba_raw.bettingpros_player_points_props',
        'nba_predictions.ml_feature_store_v2',
      ]) {
        const rows = await warehouse.query({
          name: 'test.pregame',
          sql: `SELECT * FROM {{${id}}} WHERE game_date = @d`,
          params: { d: param.date(TODAY) },
        });
        parts.push(
          rows
            .map((r) => JSON.stringify(r))
            .sort()
            .join('\n'),
        );
      }
      return parts.join('\n');
    };
    const todaysSlate = await preGame();
    const models = await registry();

    const next = await seedWorld({ ...opts, today: '2026-03-11', to: '2026-03-12' });
    expect(next).toMatchObject({ action: 'extended', replacedFrom: TODAY, first: FROM, last: '2026-03-12' });
    expect(next.rows['nba_predictions.model_registry']).toBeUndefined();
    expect(await snapshot(TODAY)).toBe(before);
    expect(await preGame()).toBe(todaysSlate); // what the old today was predicted on is still there
    expect(await registry()).toEqual(models);
    expect(
      await count('SELECT COUNT(*) AS n FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = @d', { d: '2026-03-05' }),
    ).toBe(1);
    // The old today is final with box scores now, its postponement resolved; the new today has a detected one.
    expect(await count('SELECT COUNT(*) AS n FROM {{nba_raw.nbac_schedule}} WHERE game_date = @d AND game_status <> 3', { d: TODAY })).toBe(
      0,
    );
    expect(
      await count('SELECT COUNT(DISTINCT game_id) AS n FROM {{nba_analytics.player_game_summary}} WHERE game_date = @d', { d: TODAY }),
    ).toBe(3);
    expect(
      await count("SELECT COUNT(*) AS n FROM {{nba_orchestration.game_postponements}} WHERE original_date = @d AND status = 'detected'", {
        d: TODAY,
      }),
    ).toBe(0);
    expect(
      await count("SELECT COUNT(*) AS n FROM {{nba_orchestration.game_postponements}} WHERE original_date = @d AND status = 'detected'", {
        d: '2026-03-11',
      }),
    ).toBe(1);
    // A run for a date after the window extends it to that date, appending only.
    const ahead = await ensureDemoWorld({ ...opts, today: '2026-03-11', date: '2026-03-15' });
    expect(ahead).toMatchObject({ action: 'extended', replacedFrom: '2026-03-13', last: '2026-03-15' });
    expect(await count('SELECT COUNT(DISTINCT game_date) AS n FROM {{nba_analytics.upcoming_player_game_context}}')).toBe(13);
  });

  it('resumes an interrupted seed from the first date without its rows', async () => {
    await warehouse.query({
      name: 'test.cut',
      sql: 'DELETE FROM {{nba_analytics.upcoming_player_game_context}} WHERE game_date >= @d',
      params: { d: param.date('2026-03-08') },
    });
    const resumed = await seedWorld({ ...opts, today: '2026-03-11', to: '2026-03-15' });
    expect(resumed).toMatchObject({ action: 'extended', replacedFrom: '2026-03-08' });
    expect(await count('SELECT COUNT(DISTINCT game_date) AS n FROM {{nba_analytics.upcoming_player_game_context}}')).toBe(13);
    expect(await seedWorld({ ...opts, today: '2026-03-11', to: '2026-03-15' })).toMatchObject({ action: 'present' });
  });

  it('reseeds the whole window when the world in the warehouse was made with other options, and says why', async () => {
    const lines: string[] = [];
    const other = await seedWorld({ ...opts, seed: 99, today: '2026-03-12', to: '2026-03-15', log: (l) => lines.push(l) });
    expect(other).toMatchObject({ action: 'seeded', first: FROM });
    expect(lines.join('\n')).toMatch(/generated with other options/);
    expect(
      await count('SELECT COUNT(*) AS n FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = @d', { d: '2026-03-05' }),
    ).toBe(1);
  });
});
