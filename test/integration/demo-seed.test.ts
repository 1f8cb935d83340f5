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
import { seedWorld, type SeedWorldOptions } from '../../bin/demo/seed-world.js';
import { WORLD_TABLE_IDS } from '../../bin/demo/world.js';

describe('a demo model in onnxruntime', () => {
  it('scores like the plain evaluator (NaN vegas lines included)', async () => {
    const examples = buildTrainingSet(generateWorld({ slateDates: ['2026-02-22'], today: '2026-02-22', games: 1, historyDays: 40 }).history);
    const x = familyMatrix(examples, 'v9');
    const y = Float64Array.from(examples.map((e) => e.points));
    const model = trainObliviousBoosting({ x, y, rows: examples.length, featureNames: Array.from({ length: 33 }, (_, i) => `f${i}`) }, { trees: 20, depth: 6, learningRate: 0.1, loss: 'rmse' });
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
    const counts = Object.fromEntries(registry.map((r) => [r.model_id, r.feature_count]));
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

  it('redoes only the models when a model file is missing', async () => {
    await rm(join(modelsDir, 'catboost_v12_demo.onnx'));
    const third = await seedWorld(opts);
    expect(third.action).toBe('models');
    const [reg] = await warehouse.query({ name: 'test.count4', sql: 'SELECT COUNT(*) AS n FROM {{nba_predictions.model_registry}}' });
    expect(Number(reg?.n)).toBe(DEMO_MODELS.length);
    expect((await seedWorld(opts)).action).toBe('present');
  });
});
