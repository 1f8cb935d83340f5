/**
 * Issue 14, through the tables: feature-store rows with chosen and generated NULL patterns go in, `predicted_points` comes
 * out of player_prop_predictions (the coordinator ships the row) and out of staging (the worker reads the row itself), and
 * each must equal what CatBoost's evaluator (shared/catboost) gives on the ORIGINAL's vector for that row — built by
 * test/helpers/original-vectors.ts, never by the product's vector code.
 *
 * Models: the original team's real A1 model (.cbm, V9, registered as the champion and converted at load), and a v12 and a
 * v12_noveg model made from the real A2 and B3 trees (remapped by feature name; B3's vegas trees dropped) plus one-split
 * probe trees on every feature past the base ones, with borders on either side of each fill and default, so a wrong fill
 * moves the prediction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createTinyWorld, type TinyWorld } from '../helpers/tiny-world.js';
import { CATBOOST_NBA } from '../helpers/fixtures.js';
import { API_KEY, silentLogger, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { startLocalStack, type LocalStack } from '../../bin/local-stack.js';
import { readCbm } from '../../shared/catboost/cbm-reader.js';
import { evaluate } from '../../shared/catboost/evaluator.js';
import { writeOnnx } from '../../shared/catboost/onnx-writer.js';
import type { ObliviousEnsemble, ObliviousTree } from '../../shared/catboost/oblivious-ensemble.js';
import type { Row } from '../../shared/ports/warehouse.js';
import {
  ORIGINAL_STORE_NAMES,
  ORIGINAL_V12_NAMES,
  ORIGINAL_V12_NOVEG_NAMES,
  originalByNameVector,
  originalFeatures,
  originalResolvedValues,
  originalV9Vector,
  type StoreRowInput,
} from '../helpers/original-vectors.js';
import { storeRowArbitrary } from '../helpers/feature-rows-arbitrary.js';
import { TEST_TODAY, testClock } from '../helpers/clock.js';

const NBA = CATBOOST_NBA;
const FILES = { v9: 'A1_20260129_210936.cbm', v12: 'A2_20260129_211005.cbm', v12_noveg: 'B3_20260129_211928.cbm' } as const;
const present = Object.values(FILES).every((f) => existsSync(join(NBA, f)));

type Family = keyof typeof FILES;
const SYSTEMS: Record<Family, string> = { v9: 'catboost_v9_A1', v12: 'catboost_v12_from_A2', v12_noveg: 'catboost_v12_noveg_from_B3' };

/** Real trees re-indexed by feature name into `names`; a tree reading a feature `names` lacks is dropped. */
function remapTrees(src: ObliviousEnsemble, names: readonly string[]): ObliviousTree[] {
  const index = new Map(names.map((n, i) => [n, i]));
  const out: ObliviousTree[] = [];
  for (const tree of src.trees) {
    const splits = tree.splits.map((s) => ({ feature: index.get(src.featureNames[s.feature] as string), border: s.border }));
    if (splits.every((s) => s.feature !== undefined)) out.push({ splits: splits as ObliviousTree['splits'], leaves: tree.leaves });
  }
  return out;
}

/** Borders around each non-base feature's fills and defaults (NaN reads every split as false). */
const PROBE_BORDERS: Record<string, number[]> = {
  vegas_points_line: [0, 15.5, 25.5],
  vegas_opening_line: [0, 17.5],
  vegas_line_move: [-0.5, 0.5],
  has_vegas_line: [0.5],
  avg_points_vs_opponent: [0.5, 12.5, 20.5],
  games_vs_opponent: [0.5, 2.5],
  minutes_avg_last_10: [0.5, 27.5, 32.5],
  ppm_avg_last_10: [0.2, 0.45, 0.55, 0.8],
  days_rest: [0.5, 1.5, 2.5],
  game_total_line: [223.5, 224.5],
  minutes_load_last_7d: [79.5, 80.5],
  implied_team_total: [111.5, 112.5],
  usage_rate_last_5: [19.5, 20.5],
  games_since_structural_change: [29.5, 30.5],
  points_avg_last_3: [9.5, 10.5],
  spread_magnitude: [4.5, 5.5],
  multi_book_line_std: [0.25, 0.75],
};

function probeTrees(names: readonly string[]): ObliviousTree[] {
  const trees: ObliviousTree[] = [];
  names.forEach((name, feature) => {
    if (ORIGINAL_STORE_NAMES.indexOf(name) < 25) return;
    const borders = PROBE_BORDERS[name] ?? [-0.5, 0.5];
    borders.forEach((border, k) => {
      const w = 0.2 + 0.07 * ((feature + k) % 9);
      trees.push({ splits: [{ feature, border: Math.fround(border) }], leaves: Float64Array.from([-w, w]) });
    });
  });
  return trees;
}

interface TestModel {
  family: Family;
  systemId: string;
  ensemble: ObliviousEnsemble;
  path: string;
}

function buildModels(dir: string): TestModel[] {
  const real = (f: Family) => readCbm(readFileSync(join(NBA, FILES[f])));
  const derived = (family: 'v12' | 'v12_noveg', names: readonly string[]): TestModel => {
    const src = real(family);
    const ensemble: ObliviousEnsemble = {
      featureNames: [...names],
      trees: [...remapTrees(src, names), ...probeTrees(names)],
      bias: src.bias,
    };
    const path = `${SYSTEMS[family]}.onnx`;
    writeFileSync(join(dir, path), writeOnnx(ensemble, { family }));
    return { family, systemId: SYSTEMS[family], ensemble, path };
  };
  return [
    { family: 'v9', systemId: SYSTEMS.v9, ensemble: real('v9'), path: pathToFileURL(join(NBA, FILES.v9)).href },
    derived('v12', ORIGINAL_V12_NAMES),
    derived('v12_noveg', ORIGINAL_V12_NOVEG_NAMES),
  ];
}

interface Player {
  lookup: string;
  row: StoreRowInput;
  /** A DraftKings line for the player (ACTUAL_PROP), or none (NO_PROP_LINE). */
  line: number | null;
}

/** Hand-picked cases the issue names, then generated NULL patterns (fixed seed: a failure reproduces). */
function players(): Player[] {
  const base = (patch: Record<string, number | null>, daysRest: number | null): StoreRowInput => {
    const values: Array<number | null> = ORIGINAL_STORE_NAMES.map((_, i) => (i < 25 ? 0 : null));
    Object.assign(values, [15, 14, 13, 5, 3, 40, 0.5, 0.2, 0.1, 1, 0, 0.3, 1.5, 112, 100, 1, 0, 0, 0.35, 0.2, 0.3, 0.15, 100, 113, 0.55]);
    for (const [name, v] of Object.entries(patch)) values[ORIGINAL_STORE_NAMES.indexOf(name)] = v;
    return { values, daysRest };
  };
  const chosen: Player[] = [
    { lookup: 'ppm_missing', row: base({ minutes_avg_last_10: 31, avg_points_vs_opponent: 14, games_vs_opponent: 3 }, 1), line: 14.5 },
    { lookup: 'minutes_and_ppm_missing', row: base({}, 2), line: 14.5 },
    { lookup: 'minutes_zero_ppm_missing', row: base({ minutes_avg_last_10: 0 }, 1), line: null },
    { lookup: 'opponent_missing', row: base({ minutes_avg_last_10: 28, ppm_avg_last_10: 0.5 }, 1), line: 13.5 },
    {
      lookup: 'store_line_no_move',
      row: base({ vegas_points_line: 16.5, vegas_opening_line: 15.5, minutes_avg_last_10: 30, ppm_avg_last_10: 0.47 }, 1),
      line: null,
    },
    {
      lookup: 'no_line_anywhere',
      row: base({ vegas_opening_line: 15.5, vegas_line_move: 1, minutes_avg_last_10: 30, ppm_avg_last_10: 0.47 }, null),
      line: null,
    },
    { lookup: 'days_rest_row_beats_39', row: base({ days_rest: 4, minutes_avg_last_10: 30, ppm_avg_last_10: 0.47 }, 0), line: 15.5 },
    { lookup: 'days_rest_row_null', row: base({ days_rest: 3, minutes_avg_last_10: 30, ppm_avg_last_10: 0.47 }, null), line: 15.5 },
  ];
  const generated = fc.sample(
    fc.tuple(
      storeRowArbitrary(),
      fc.option(
        fc.integer({ min: 12, max: 64 }).map((x) => x / 2),
        { nil: null },
      ),
    ),
    { numRuns: 40, seed: 1414 },
  );
  return [...chosen, ...generated.map(([row, line], i) => ({ lookup: `gen${String(i).padStart(3, '0')}`, row, line }))];
}

function expectedPoints(model: TestModel, p: Player): number {
  const f = originalFeatures(p.row, p.line);
  const vector =
    model.family === 'v9' ? originalV9Vector(f, model.ensemble.featureNames) : originalByNameVector(f, model.ensemble.featureNames);
  return Math.min(60, Math.max(0, evaluate(model.ensemble, vector)));
}

/** Stored values keep one decimal: equal to the expectation rounded, within 0.01 — either neighbour when the raw value sits on a rounding edge. */
function checkPoints(stored: unknown, expected: number, label: string): void {
  const got = Number(stored);
  const rounded = Math.round(expected * 10) / 10;
  const edge = Math.abs(expected * 10 - Math.floor(expected * 10) - 0.5) < 0.01;
  if (edge) expect(Math.abs(got - expected), label).toBeLessThanOrEqual(0.06);
  else expect(Math.abs(got - rounded), label).toBeLessThanOrEqual(0.01);
}

const today = TEST_TODAY;
let world: TinyWorld;
let stack: LocalStack;
let models: TestModel[];
let cast: Player[];

describe.skipIf(!present)('feature fills through the tables, with real CatBoost models', () => {
  beforeAll(async () => {
    world = await createTinyWorld({ gameDate: today, players: 0, models: 0 });
    models = buildModels(world.modelsDir);
    cast = players();
    const created = `${today}T12:00:00Z`;
    const game = world.gameIds[0] as string;
    const features: Row[] = [];
    const context: Row[] = [];
    const odds: Row[] = [];
    for (const p of cast) {
      const row: Row = {
        player_lookup: p.lookup,
        game_date: today,
        game_id: game,
        feature_quality_score: 92,
        is_quality_ready: true,
        quality_alert_level: 'green',
        matchup_quality_pct: 95,
        default_feature_count: 0,
        required_default_count: 0,
        vegas_line_source: 'odds_api',
        days_rest: p.row.daysRest,
        created_at: created,
      };
      p.row.values.forEach((v, i) => (row[`feature_${i}_value`] = v));
      features.push(row);
      context.push({
        player_lookup: p.lookup,
        game_id: game,
        game_date: today,
        team_abbr: 'AAA',
        opponent_team_abbr: 'BBB',
        home_game: true,
        avg_minutes_per_game_last_7: 30,
        is_production_ready: true,
        has_prop_line: p.line !== null,
        created_at: created,
      });
      if (p.line !== null)
        odds.push({
          game_id: game,
          game_date: today,
          player_lookup: p.lookup,
          bookmaker: 'draftkings',
          points_line: p.line,
          snapshot_timestamp: created,
          minutes_before_tipoff: 60,
        });
    }
    const insert = (table: string, rows: Row[]) => world.warehouse.insert({ name: 'seed', table, rows });
    await insert('nba_predictions.ml_feature_store_v2', features);
    await insert('nba_analytics.upcoming_player_game_context', context);
    await insert('nba_raw.odds_api_player_points_props', odds);
    await insert(
      'nba_predictions.model_registry',
      models.map((m) => ({
        model_id: m.systemId,
        model_version: `${m.systemId}_v1`,
        model_type: 'catboost',
        gcs_path: m.path,
        feature_count: m.ensemble.featureNames.length,
        training_start_date: '2021-11-01',
        training_end_date: '2022-06-30',
        status: 'active',
        is_production: m.family === 'v9',
        enabled: true,
        feature_set: m.family,
        created_at: created,
      })),
    );
    stack = await startLocalStack({
      clock: testClock(),
      duckdb: world.warehouse,
      modelsDir: world.modelsDir,
      apiKey: API_KEY,
      logger: silentLogger,
      env: { LOCAL_BUS_MIN_BACKOFF_MS: '5', LOCAL_BUS_MAX_BACKOFF_MS: '50' },
    });
    expect(stack.models.refused).toEqual([]);
  });

  afterAll(async () => {
    await stack?.close();
    await world?.warehouse.close();
  });

  it('the coordinator ships each row; player_prop_predictions holds what CatBoost gives on the original vector, for every family', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${stack.coordinatorUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const t = {
      world,
      stack,
      get: (path: string) => call('GET', path),
      post: (path: string, body: unknown) => call('POST', path, body),
      close: async () => {},
    } satisfies TestStack;
    const started = await t.post('/start', { game_date: today });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ published: cast.length });
    const end = await waitForBatchEnd(t, String(started.body.batch_id));
    expect(end.status).toBe('complete');

    const rows = await world.warehouse.query({
      name: 'rows',
      sql: `SELECT player_lookup, system_id, predicted_points, features_snapshot FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = '${today}'`,
    });
    expect(rows).toHaveLength(cast.length * models.length);
    for (const p of cast) {
      const f = originalFeatures(p.row, p.line);
      for (const m of models) {
        const row = rows.find((r) => r.player_lookup === p.lookup && r.system_id === m.systemId);
        const label = `${p.lookup} ${m.systemId} (line ${p.line}, days_rest ${p.row.daysRest})`;
        expect(row, label).toBeDefined();
        checkPoints(row?.predicted_points, expectedPoints(m, p), label);
        const snapshot = JSON.parse(String(row?.features_snapshot)) as Record<string, unknown>;
        const { vegas_source: _s, feature_quality_score: _q, ...values } = snapshot;
        expect(values, label).toEqual(originalResolvedValues(f));
      }
    }
  });

  it('a request without values makes the worker read the row itself, with the same fills and the same predictions', async () => {
    for (const p of cast) {
      const request = {
        batch_id: 'direct',
        correlation_id: 'direct',
        game_date: today,
        game_id: world.gameIds[0],
        player_lookup: p.lookup,
        line_values: [p.line],
        line_source: p.line === null ? 'NO_PROP_LINE' : 'ACTUAL_PROP',
        line_source_api: p.line === null ? null : 'ODDS_API',
        sportsbook: p.line === null ? null : 'DRAFTKINGS',
        was_line_fallback: false,
        line_minutes_before_game: null,
      };
      const res = await fetch(`${stack.workerUrl}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: { data: Buffer.from(JSON.stringify(request)).toString('base64'), messageId: p.lookup } }),
      });
      expect(res.status, p.lookup).toBe(204);
    }
    const rows = await world.warehouse.query({
      name: 'rows',
      sql: `SELECT player_lookup, system_id, predicted_points FROM {{nba_predictions.prediction_staging}} WHERE batch_id = 'direct'`,
    });
    expect(rows).toHaveLength(cast.length * models.length);
    for (const p of cast) {
      for (const m of models) {
        const row = rows.find((r) => r.player_lookup === p.lookup && r.system_id === m.systemId);
        checkPoints(row?.predicted_points, expectedPoints(m, p), `${p.lookup} ${m.systemId} (worker-loaded)`);
      }
    }
  });

  it('the ppm fill matters: the real V9 model predicts differently with the original fill than with the old 0.4 default', () => {
    const p = cast.find((c) => c.lookup === 'ppm_missing') as Player;
    const v9 = models.find((m) => m.family === 'v9') as TestModel;
    const f = originalFeatures(p.row, p.line);
    const filled = originalV9Vector(f, v9.ensemble.featureNames);
    const oldDefault = Float64Array.from(filled);
    oldDefault[32] = 0.4;
    expect(Math.abs(evaluate(v9.ensemble, filled) - evaluate(v9.ensemble, oldDefault))).toBeGreaterThan(0.5);
  });
});
