/**
 * Seeds a DuckDB warehouse with the demo world and the demo models (the embedded default, design §7).
 *
 * Idempotent: when the warehouse already holds the slate for every requested date and every demo model file exists with
 * its registered sha256, nothing is written. When the slate is missing (a fresh file, or a new day), the demo world tables
 * are cleared and rewritten (so histories never pile up), the models are retrained and their registry rows replaced. When
 * only the models are missing or changed, only the models and their registry rows are redone. Prediction tables are never
 * touched.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { ALL_TABLES } from '../../shared/contracts/tables.js';
import { param } from '../../shared/ports/warehouse.js';
import { buildDemoModels, DEMO_MODELS, type DemoModelReport } from './demo-models.js';
import { generateWorld, WORLD_TABLE_IDS, type DemoWorld } from './world.js';

export interface SeedWorldOptions {
  warehouse: DuckDbWarehouse;
  /** Where the .onnx files go; registry gcs_path is relative to it. */
  modelsDir: string;
  slateDates: string[];
  today: string;
  games?: number;
  seed?: number;
  trees?: number;
  historyDays?: number;
  /** Candidate players per game, min–max (default 30–35). */
  candidatesPerGame?: readonly [number, number];
  datasetPrefix?: string;
  log?: (line: string) => void;
}

export interface WorldSummary {
  /** 'seeded' (world and models written), 'models' (only the models redone) or 'present' (nothing to do). */
  action: 'seeded' | 'models' | 'present';
  slateDates: string[];
  /** Slate games over all slate dates. */
  games: number;
  /** Distinct candidate players over all slate dates. */
  candidates: number;
  /** Rows inserted per table id (empty when nothing was inserted). */
  rows: Record<string, number>;
  models: string[];
  modelReports: DemoModelReport[];
  seconds: number;
}

export type EnsureDemoWorldOptions = Omit<SeedWorldOptions, 'slateDates' | 'modelsDir'> & {
  /** Default: [today]. */
  slateDates?: string[];
  /** Default: '.local/models'. */
  modelsDir?: string;
};

const REGISTRY = 'nba_predictions.model_registry';

async function slateState(opts: SeedWorldOptions): Promise<{ days: number; games: number; candidates: number }> {
  const [row] = await opts.warehouse.query({
    name: 'demo.seed.check',
    sql: `SELECT
      (SELECT COUNT(DISTINCT game_date) FROM {{nba_raw.nbac_schedule}} WHERE game_date IN UNNEST(@dates) AND game_status = 1) AS days,
      (SELECT COUNT(*) FROM {{nba_raw.nbac_schedule}} WHERE game_date IN UNNEST(@dates) AND game_status = 1) AS games,
      (SELECT COUNT(DISTINCT player_lookup) FROM {{nba_analytics.upcoming_player_game_context}} WHERE game_date IN UNNEST(@dates)) AS candidates`,
    params: { dates: { type: 'ARRAY', elementType: 'DATE', value: [...opts.slateDates] } },
    datasetPrefix: opts.datasetPrefix,
  });
  return { days: Number(row?.days ?? 0), games: Number(row?.games ?? 0), candidates: Number(row?.candidates ?? 0) };
}

async function modelsPresent(opts: SeedWorldOptions): Promise<boolean> {
  const rows = await opts.warehouse.query({
    name: 'demo.seed.registry',
    sql: `SELECT model_id, gcs_path, sha256_hash FROM {{${REGISTRY}}} WHERE model_id IN UNNEST(@ids)`,
    params: { ids: param.strings(DEMO_MODELS.map((m) => m.modelId)) },
    datasetPrefix: opts.datasetPrefix,
  });
  if (rows.length !== DEMO_MODELS.length) return false;
  for (const r of rows) {
    try {
      const bytes = await readFile(join(opts.modelsDir, String(r.gcs_path)));
      if (createHash('sha256').update(bytes).digest('hex') !== r.sha256_hash) return false;
    } catch {
      return false;
    }
  }
  return true;
}

export async function seedWorld(opts: SeedWorldOptions): Promise<WorldSummary> {
  const t0 = performance.now();
  const log = opts.log ?? ((): void => {});
  const { warehouse, datasetPrefix } = opts;
  const slateDates = [...new Set(opts.slateDates)].sort();
  const o = { ...opts, slateDates };
  await warehouse.ensureTables(ALL_TABLES, datasetPrefix);
  const state = await slateState(o);
  const worldPresent = state.days === slateDates.length;
  const haveModels = worldPresent && (await modelsPresent(o));
  const summary: WorldSummary = {
    action: 'present', slateDates, games: state.games, candidates: state.candidates, rows: {}, models: DEMO_MODELS.map((m) => m.modelId), modelReports: [], seconds: 0,
  };
  if (worldPresent && haveModels) {
    summary.seconds = (performance.now() - t0) / 1000;
    log(`demo world already present for ${slateDates.join(', ')} (${state.games} games, ${state.candidates} candidates); models verified`);
    return summary;
  }

  const world: DemoWorld = generateWorld({ slateDates, today: opts.today, games: opts.games, seed: opts.seed, historyDays: opts.historyDays, candidatesPerGame: opts.candidatesPerGame });
  log(`generated the demo world in ${((performance.now() - t0) / 1000).toFixed(2)} s (history ${world.info.historyStart} … ${world.info.historyEnd})`);
  const clear = worldPresent ? [] : WORLD_TABLE_IDS.map((id) => ({ name: `demo.seed.clear.${id}`, sql: `DELETE FROM {{${id}}} WHERE TRUE`, datasetPrefix }));
  await warehouse.transaction('demo.seed.clear', [
    ...clear,
    {
      name: 'demo.seed.clear.registry',
      sql: `DELETE FROM {{${REGISTRY}}} WHERE model_id IN UNNEST(@ids)`,
      params: { ids: param.strings(DEMO_MODELS.map((m) => m.modelId)) },
      datasetPrefix,
    },
  ]);
  if (!worldPresent) {
    const t1 = performance.now();
    for (const id of WORLD_TABLE_IDS) {
      const rows = world.tables[id];
      if (rows.length > 0) await warehouse.insert({ name: `demo.seed.${id}`, table: id, rows, datasetPrefix });
      summary.rows[id] = rows.length;
    }
    summary.games = Object.values(world.info.games).reduce((a, b) => a + b, 0);
    summary.candidates = Object.values(world.info.candidates).reduce((a, b) => a + b, 0);
    log(`inserted ${Object.values(summary.rows).reduce((a, b) => a + b, 0)} rows into ${WORLD_TABLE_IDS.length} tables in ${((performance.now() - t1) / 1000).toFixed(2)} s`);
  }
  const registry = await buildDemoModels({
    world,
    modelsDir: opts.modelsDir,
    trees: opts.trees,
    createdAt: `${opts.today}T00:00:00.000Z`,
    log,
    onReport: (r) => summary.modelReports.push(r),
  });
  await warehouse.insert({ name: 'demo.seed.registry', table: REGISTRY, rows: registry, datasetPrefix });
  summary.rows[REGISTRY] = registry.length;
  summary.action = worldPresent ? 'models' : 'seeded';
  summary.seconds = (performance.now() - t0) / 1000;
  log(`demo world ${summary.action} for ${slateDates.join(', ')}: ${summary.games} games, ${summary.candidates} candidates, ${registry.length} models, ${summary.seconds.toFixed(2)} s`);
  return summary;
}

/** seedWorld when needed (it is idempotent), with the local stack's defaults: slate = [today], models in .local/models. */
export async function ensureDemoWorld(opts: EnsureDemoWorldOptions): Promise<WorldSummary> {
  return seedWorld({ ...opts, slateDates: opts.slateDates ?? [opts.today], modelsDir: opts.modelsDir ?? join('.local', 'models') });
}
