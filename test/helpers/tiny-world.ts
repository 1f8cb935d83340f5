/**
 * A small, exact world for component tests: hand-built rows in an in-memory DuckDB and tiny real ONNX models
 * (oblivious trees written by the project's own writer), so each rule can be exercised on rows the test controls.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { ALL_TABLES } from '../../shared/contracts/tables.js';
import { FAMILY_FEATURES, FEATURE_NAMES, featureColumn, type ModelFamily } from '../../shared/contracts/feature-contract.js';
import { writeOnnx } from '../../shared/catboost/onnx-writer.js';
import { addDays } from '../../shared/dates/game-date.js';
import type { Row } from '../../shared/ports/warehouse.js';

export interface TinyWorldOptions {
  gameDate: string;
  players: number;
  /** Number of registered models: the first is the v9 champion, then v12_noveg, v12 (quantile 0.43), v9 … */
  models?: number;
  playersPerGame?: number;
  /** Seed the tables under `<prefix>_<dataset>` instead of the production datasets. */
  datasetPrefix?: string;
  /** A DuckDB file to seed instead of an in-memory database (close the warehouse before another process opens it). */
  path?: string;
}

export interface TinyWorld {
  warehouse: DuckDbWarehouse;
  modelsDir: string;
  players: string[];
  gameIds: string[];
  systems: string[];
}

export const playerName = (i: number): string => `player${String(i).padStart(3, '0')}`;

/** Base feature values that pass validation; points_avg_last_5 drives the tiny models. */
export function validFeatureValues(seasonAvg: number): Record<string, number> {
  const v: Record<string, number> = {};
  FEATURE_NAMES.forEach((n, i) => (v[n] = (i % 7) / 10));
  Object.assign(v, {
    points_avg_last_5: seasonAvg,
    points_avg_last_10: seasonAvg,
    points_avg_season: seasonAvg,
    points_std_last_10: 5,
    opponent_def_rating: 112,
    opponent_pace: 100,
    home_away: 1,
    back_to_back: 0,
    playoff_game: 0,
    fatigue_score: 40,
    vegas_points_line: seasonAvg,
    vegas_opening_line: seasonAvg,
    vegas_line_move: 0,
    has_vegas_line: 1,
  });
  return v;
}

export async function createTinyWorld(opts: TinyWorldOptions): Promise<TinyWorld> {
  const warehouse = await DuckDbWarehouse.open({ path: opts.path ?? ':memory:' });
  const prefix = opts.datasetPrefix;
  await warehouse.ensureTables(ALL_TABLES, prefix);
  const insert = (table: string, rows: Row[]) =>
    warehouse.insert({ name: 'seed', table, rows, ...(prefix ? { datasetPrefix: prefix } : {}) });
  const perGame = opts.playersPerGame ?? 30;
  const players = Array.from({ length: opts.players }, (_, i) => playerName(i));
  const gameCount = Math.max(1, Math.ceil(opts.players / perGame));
  const gameIds = Array.from({ length: gameCount }, (_, g) => `${opts.gameDate.replaceAll('-', '')}_G${g}`);
  const created = `${opts.gameDate}T12:00:00Z`;

  const schedule: Row[] = gameIds.map((game_id) => ({ game_id, game_date: opts.gameDate, game_status: 1 }));
  const summary: Row[] = [];
  for (let d = 1; d <= 7; d++) {
    const date = addDays(opts.gameDate, -d);
    schedule.push({ game_id: `past_${d}`, game_date: date, game_status: 3 });
    summary.push({ game_id: `past_${d}`, game_date: date, player_lookup: 'someone', points: 10, minutes_played: 20 });
  }
  await insert('nba_raw.nbac_schedule', schedule);
  await insert('nba_analytics.player_game_summary', summary);

  const context: Row[] = [];
  const odds: Row[] = [];
  const features: Row[] = [];
  players.forEach((p, i) => {
    const game_id = gameIds[Math.floor(i / perGame)] as string;
    const avg = 8 + (i % 20);
    context.push({
      player_lookup: p,
      game_id,
      game_date: opts.gameDate,
      team_abbr: 'AAA',
      opponent_team_abbr: 'BBB',
      home_game: true,
      avg_minutes_per_game_last_7: 30 - (i % 10),
      is_production_ready: true,
      has_prop_line: true,
      created_at: created,
    });
    odds.push({
      game_id,
      game_date: opts.gameDate,
      player_lookup: p,
      bookmaker: 'draftkings',
      points_line: avg + 0.5,
      snapshot_timestamp: created,
      minutes_before_tipoff: 60,
    });
    const values = validFeatureValues(avg);
    const row: Row = {
      player_lookup: p,
      game_date: opts.gameDate,
      game_id,
      feature_quality_score: 95,
      is_quality_ready: true,
      quality_alert_level: 'green',
      matchup_quality_pct: 90,
      default_feature_count: 0,
      required_default_count: 0,
      vegas_line_source: 'odds_api',
      created_at: created,
    };
    FEATURE_NAMES.forEach((n, k) => (row[featureColumn(k)] = values[n] ?? null));
    features.push(row);
  });
  await insert('nba_analytics.upcoming_player_game_context', context);
  await insert('nba_raw.odds_api_player_points_props', odds);
  await insert('nba_predictions.ml_feature_store_v2', features);

  const modelsDir = mkdtempSync(join(tmpdir(), 'tiny-models-'));
  const families: Array<{ family: ModelFamily; alpha: number | null }> = [
    { family: 'v9', alpha: null },
    { family: 'v12_noveg', alpha: null },
    { family: 'v12', alpha: 0.43 },
  ];
  const registry: Row[] = [];
  const systems: string[] = [];
  for (let m = 0; m < (opts.models ?? 3); m++) {
    const spec = families[m % families.length] as { family: ModelFamily; alpha: number | null };
    const id = m === 0 ? 'catboost_v9_tiny' : `catboost_${spec.family}_tiny_${m}`;
    const bytes = tinyModel(spec.family, m);
    writeFileSync(join(modelsDir, `${id}.onnx`), bytes);
    systems.push(id);
    registry.push({
      model_id: id,
      model_version: `${id}_v1`,
      model_type: 'catboost',
      gcs_path: `${id}.onnx`,
      feature_count: FAMILY_FEATURES[spec.family].length,
      training_start_date: '2025-11-01',
      training_end_date: '2026-01-31',
      status: 'active',
      is_production: m === 0,
      enabled: true,
      model_family: spec.family,
      feature_set: spec.family,
      quantile_alpha: spec.alpha,
      sha256_hash: createHash('sha256').update(bytes).digest('hex'),
      created_at: created,
    });
  }
  await insert('nba_predictions.model_registry', registry);
  // The worker's model set belongs to the deployment: it reads the production registry at boot, whatever the run's prefix.
  if (prefix) {
    await warehouse.ensureTables(ALL_TABLES);
    await warehouse.insert({ name: 'seed', table: 'nba_predictions.model_registry', rows: registry });
  }
  return { warehouse, modelsDir, players, gameIds, systems };
}

/** prediction ≈ 2 + points_avg_last_5 ± a model-specific nudge: a one-split tree stack over points_avg_last_5. */
export function tinyModel(family: ModelFamily, variant: number): Uint8Array {
  const featureNames = [...FAMILY_FEATURES[family]];
  const trees = [5, 10, 15, 20, 25].map((border) => ({
    splits: [{ feature: 0, border: Math.fround(border) }],
    leaves: Float64Array.from([0, 5]),
  }));
  return writeOnnx({ featureNames, trees, bias: 4.5 + variant * 0.5 }, { family });
}
