/**
 * A real CatBoost model from the original team, registered as a `.cbm` (converted in memory at load), run through the worker
 * over HTTP; and models the worker must refuse (bad sha256, wrong feature order) without stopping the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createTinyWorld, tinyModel, validFeatureValues, type TinyWorld } from '../helpers/tiny-world.js';
import { CATBOOST_NBA } from '../helpers/fixtures.js';
import { LocalBus } from '../../shared/adapters/local-bus/local-bus.js';
import type { ModelSet } from '../../services/worker/models/model-set.js';
import { startTestWorker, type TestWorker } from '../helpers/worker.js';
import { readCbm } from '../../shared/catboost/cbm-reader.js';
import { evaluate } from '../../shared/catboost/evaluator.js';
import { FAMILY_FEATURES, type FeatureValues } from '../../shared/contracts/feature-contract.js';
import { buildVector } from '../../shared/contracts/feature-vector.js';
import { writeOnnx } from '../../shared/catboost/onnx-writer.js';
import { TEST_TODAY } from '../helpers/clock.js';

const NBA = CATBOOST_NBA;
const CBM = join(NBA, 'A1_20260129_210936.cbm');
const META = join(NBA, 'A1_20260129_210936_metadata.json');
const present = existsSync(CBM) && existsSync(META);

const today = TEST_TODAY;
let world: TinyWorld;
let models: ModelSet;
let bus: LocalBus;
let worker: TestWorker;
let url: string;

describe.skipIf(!present)('worker with a real CatBoost .cbm from the registry', () => {
  beforeAll(async () => {
    world = await createTinyWorld({ gameDate: today, players: 2, models: 0 });
    const cbm = readFileSync(CBM);
    const good = tinyModel('v12_noveg', 1);
    writeFileSync(join(world.modelsDir, 'good_shadow.onnx'), good);
    writeFileSync(join(world.modelsDir, 'bad_sha.onnx'), tinyModel('v9', 2));
    const shuffled: string[] = [...FAMILY_FEATURES.v9];
    [shuffled[3], shuffled[4]] = [shuffled[4] as string, shuffled[3] as string];
    const wrongOrder = writeOnnx(
      {
        featureNames: shuffled,
        trees: [{ splits: [{ feature: 0, border: Math.fround(10) }], leaves: Float64Array.from([1, 2]) }],
        bias: 10,
      },
      {},
    );
    writeFileSync(join(world.modelsDir, 'wrong_order.onnx'), wrongOrder);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const row = (id: string, path: string, featureSet: string, hash: string | null, production = false) => ({
      model_id: id,
      model_version: `${id}_v1`,
      model_type: 'catboost',
      gcs_path: path,
      feature_count: 33,
      training_start_date: '2021-11-01',
      training_end_date: '2022-06-30',
      status: 'active',
      is_production: production,
      enabled: true,
      feature_set: featureSet,
      sha256_hash: hash,
      created_at: `${today}T00:00:00Z`,
    });
    await world.warehouse.insert({
      name: 'registry',
      table: 'nba_predictions.model_registry',
      rows: [
        row('catboost_v9_A1', pathToFileURL(CBM).href, 'v9', sha(cbm), true),
        row('good_shadow', 'good_shadow.onnx', 'v12_noveg', sha(good)),
        row('bad_sha', 'bad_sha.onnx', 'v9', '0'.repeat(64)),
        row('wrong_order', 'wrong_order.onnx', 'v9', null),
      ],
    });
    bus = new LocalBus();
    worker = await startTestWorker(world.modelsDir, { warehouse: world.warehouse, bus });
    models = worker.runtime.deps.models;
    url = worker.url;
  });

  afterAll(async () => {
    await worker?.close();
    await bus?.close();
    await world?.warehouse.close();
  });

  it('loads the .cbm champion and the good shadow, and refuses the bad sha256 and the wrong feature order with reasons', async () => {
    expect(models.loaded.map((m) => m.systemId)).toEqual(['catboost_v9_A1', 'good_shadow']);
    const refused = Object.fromEntries(models.refused.map((r) => [r.systemId, r.reason]));
    expect(refused.bad_sha).toMatch(/sha256 mismatch/);
    expect(refused.wrong_order).toMatch(/position 3: model has 'games_in_last_7_days', contract has 'points_std_last_10'/);
    expect((await fetch(`${url}/ready`)).status).toBe(200);
  });

  it('predicts with the real model what the CatBoost evaluator predicts for the same vector', async () => {
    const meta = JSON.parse(readFileSync(META, 'utf8')) as { feature_medians: Record<string, number> };
    const features: FeatureValues = { ...validFeatureValues(18), ...meta.feature_medians, opponent_def_rating: 112, points_avg_season: 18 };
    const request = {
      batch_id: 'b1',
      correlation_id: 'c1',
      game_date: today,
      game_id: world.gameIds[0],
      player_lookup: 'player000',
      line_values: [17.5],
      line_source: 'ACTUAL_PROP',
      line_source_api: 'ODDS_API',
      sportsbook: 'DRAFTKINGS',
      was_line_fallback: false,
      line_minutes_before_game: 30,
      features,
    };
    const res = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: { data: Buffer.from(JSON.stringify(request)).toString('base64'), messageId: '1' } }),
    });
    expect(res.status).toBe(204);
    const rows = await world.warehouse.query({
      name: 'rows',
      sql: `SELECT system_id, predicted_points FROM {{nba_predictions.prediction_staging}} WHERE system_id = 'catboost_v9_A1'`,
    });
    expect(rows).toHaveLength(1);
    // The worker's vector: the request line replaces the vegas features (opening = line, move 0, has line 1).
    const vector = new Float32Array(33);
    buildVector('v9', { ...features, vegas_points_line: 17.5, vegas_opening_line: 17.5, vegas_line_move: 0, has_vegas_line: 1 }, vector);
    const expected = evaluate(readCbm(readFileSync(CBM)), vector);
    expect(expected).toBeGreaterThan(1);
    expect(expected).toBeLessThan(40);
    // Rows store one decimal; ORT sums leaves in float32 (≤ 1e-4 from the evaluator), so allow half a tenth plus that.
    expect(Math.abs(Number(rows[0]?.predicted_points) - expected)).toBeLessThanOrEqual(0.05 + 1e-4);
  });
});
