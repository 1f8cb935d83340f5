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
import { DAYS_OPTION, ensureDemoWorld } from './demo/seed-world.js';
import { cliUsage } from './cli-usage.js';

const USAGE = `usage: seed [options]
${DAYS_OPTION.usage}
  --games N           games per slate date, 1–15 (default 11) — used when the world is (re)generated
  --seed N            the world's random seed (default the demo seed)
  --warehouse FILE    DuckDB file (default .local/warehouse.duckdb)
  --models DIR        where the demo models are written (default .local/models)
  --trees N           trees per demo model (default 120)
  --train-threads N   worker threads training the models (default one per core, at most 4; 0 = in this thread)`;

const usage = cliUsage('seed', USAGE);

async function main(): Promise<void> {
  const { values } = usage.parsed(() =>
    parseArgs({
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
    }),
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const pastDays = usage.int('days', values.days, DAYS_OPTION.min, DAYS_OPTION.max);
  const games = usage.int('games', values.games, 1, 15);
  const seed = usage.int('seed', values.seed, 0, 2 ** 31 - 1);
  const trees = usage.int('trees', values.trees, 1, 1000);
  const trainThreads = usage.int('train-threads', values['train-threads'], 0, 64);
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
    say(
      `${summary.action}: ${summary.dates} dates (${summary.from} … ${summary.to}), ${summary.games} games, ${summary.candidates} candidates; ${summary.seconds.toFixed(1)} s`,
    );
  } finally {
    await warehouse.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`seed failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
