/**
 * `npm run seed`: seeds (or extends, or verifies) the demo world in the local warehouse without running anything, and says
 * what it did and how long it took. `npm start` does the same on its way; this command is for seeding ahead of time, a
 * longer or shorter window, or another warehouse file.
 *
 *   npm run seed -- [--days N] [--games N] [--seed N] [--warehouse FILE] [--models DIR] [--trees N] [--train-threads N]
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDbWarehouse } from '../shared/adapters/duckdb/duckdb-warehouse.js';
import { etDate } from '../shared/dates/game-date.js';
import { DEFAULT_PAST_DAYS, ensureDemoWorld } from './demo/seed-world.js';

const USAGE = `usage: seed [options]
  --days N            past slate dates before today (default ${DEFAULT_PAST_DAYS}); the window also has today and tomorrow (ET)
  --games N           games per slate date, 1–15 (default 11) — used when the world is (re)generated
  --seed N            the world's random seed (default the demo seed)
  --warehouse FILE    DuckDB file (default .local/warehouse.duckdb)
  --models DIR        where the demo models are written (default .local/models)
  --trees N           trees per demo model (default 120)
  --train-threads N   worker threads training the models (default one per core, at most 4; 0 = in this thread)`;

function fail(message: string): never {
  process.stderr.write(`seed: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer ${min}–${max}, got '${value}'`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        days: { type: 'string' },
        games: { type: 'string' },
        seed: { type: 'string' },
        warehouse: { type: 'string' },
        models: { type: 'string' },
        trees: { type: 'string' },
        'train-threads': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const pastDays = intOption('days', values.days, 0, 400);
  const games = intOption('games', values.games, 1, 15);
  const seed = intOption('seed', values.seed, 0, 2 ** 31 - 1);
  const trees = intOption('trees', values.trees, 1, 1000);
  const trainThreads = intOption('train-threads', values['train-threads'], 0, 64);
  const path = resolve(values.warehouse ?? '.local/warehouse.duckdb');
  const modelsDir = resolve(values.models ?? '.local/models');
  mkdirSync(dirname(path), { recursive: true });
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const today = etDate(new Date());
  say(`demo world in ${path} (models ${modelsDir}), today ${today} ET`);
  const warehouse = await DuckDbWarehouse.open({ path });
  try {
    const summary = await ensureDemoWorld({
      warehouse,
      modelsDir,
      today,
      ...(pastDays === undefined ? {} : { pastDays }),
      ...(games === undefined ? {} : { games }),
      ...(seed === undefined ? {} : { seed }),
      ...(trees === undefined ? {} : { trees }),
      ...(trainThreads === undefined ? {} : { trainThreads }),
      log: (line) => say(`  ${line}`),
    });
    say(`${summary.action}: ${summary.dates} dates (${summary.from} … ${summary.to}), ${summary.games} games, ${summary.candidates} candidates; ${summary.seconds.toFixed(1)} s`);
  } finally {
    await warehouse.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`seed failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
