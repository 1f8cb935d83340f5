/**
 * The demo world the service benchmarks share: a 15-game slate for today (America/New_York), 35–36 candidates a game,
 * seeded with `seedWorld` into a
 * DuckDB file under the world directory, plus 8 registered models (the 4 demo models and a copy of each under a new
 * model_id, same file and sha256). Seeding is idempotent: a later benchmark (or child process) finds the world present.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { etDate } from '../../shared/dates/game-date.js';
import { param, type Row } from '../../shared/ports/warehouse.js';
import { seedWorld } from '../demo/seed-world.js';
import { DEMO_MODELS } from '../demo/demo-models.js';

export const BENCH_GAMES = 15;
/** Nearly full rosters, so the 15-game slate has about 500 candidates (the default 30–35 a game gives about 430). */
export const BENCH_CANDIDATES_PER_GAME: readonly [number, number] = [35, 36];
export const BENCH_MODELS = 8;
const REGISTRY = 'nba_predictions.model_registry';
export const COPY_SUFFIX = '_bench_copy';

export interface BenchWorld {
  warehouse: DuckDbWarehouse;
  modelsDir: string;
  gameDate: string;
  candidates: number;
  seededNow: boolean;
  seedSeconds: number;
}

export function worldPaths(worldDir: string): { db: string; modelsDir: string } {
  return { db: join(worldDir, 'warehouse.duckdb'), modelsDir: join(worldDir, 'models') };
}

/** Opens the world's warehouse (seeding it first when needed) with the given simulated round trip. */
export async function openWorld(worldDir: string, rttMs: number, log: (line: string) => void): Promise<BenchWorld> {
  mkdirSync(worldDir, { recursive: true });
  const { db, modelsDir } = worldPaths(worldDir);
  const today = etDate(new Date());
  // Seed (or verify) without latency, then reopen with the requested round trip.
  const seeder = await DuckDbWarehouse.open({ path: db });
  let summary;
  try {
    summary = await seedWorld({
      warehouse: seeder,
      modelsDir,
      slateDates: [today],
      today,
      games: BENCH_GAMES,
      candidatesPerGame: BENCH_CANDIDATES_PER_GAME,
      log: (l) => log(`  seed: ${l}`),
    });
    await registerCopies(seeder);
  } finally {
    await seeder.close();
  }
  const warehouse =
    rttMs > 0 ? await DuckDbWarehouse.open({ path: db, simulatedRoundTripMs: rttMs }) : await DuckDbWarehouse.open({ path: db });
  return {
    warehouse,
    modelsDir,
    gameDate: today,
    candidates: summary.candidates,
    seededNow: summary.action !== 'present',
    seedSeconds: summary.seconds,
  };
}

/** Registers a copy of every demo model under a new model_id (never the champion), so 8 models are enabled. */
async function registerCopies(warehouse: DuckDbWarehouse): Promise<void> {
  const ids = DEMO_MODELS.map((m) => m.modelId);
  const rows = await warehouse.query({
    name: 'bench.registry.read',
    sql: `SELECT * FROM {{${REGISTRY}}} WHERE model_id IN UNNEST(@ids)`,
    params: { ids: param.strings(ids) },
  });
  if (rows.length !== ids.length) throw new Error(`bench world: expected ${ids.length} demo models in the registry, found ${rows.length}`);
  const copies: Row[] = rows.map((r) => ({
    ...r,
    model_id: `${String(r.model_id)}${COPY_SUFFIX}`,
    model_version: `${String(r.model_version)}${COPY_SUFFIX}`,
    is_production: false,
    created_by: 'bin/bench',
  }));
  await warehouse.transaction('bench.registry.clear', [
    {
      name: 'bench.registry.clear',
      sql: `DELETE FROM {{${REGISTRY}}} WHERE model_id IN UNNEST(@ids)`,
      params: { ids: param.strings(copies.map((c) => String(c.model_id))) },
    },
  ]);
  await warehouse.insert({ name: 'bench.registry.copies', table: REGISTRY, rows: copies });
}

/** Deletes the date's consolidated predictions and staging rows, so the next /start publishes every viable player again. */
export async function resetDate(warehouse: DuckDbWarehouse, gameDate: string): Promise<void> {
  const d = { d: param.date(gameDate) };
  await warehouse.transaction('bench.reset', [
    { name: 'bench.reset.predictions', sql: 'DELETE FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = @d', params: d },
    { name: 'bench.reset.staging', sql: 'DELETE FROM {{nba_predictions.prediction_staging}} WHERE game_date = @d', params: d },
  ]);
}
