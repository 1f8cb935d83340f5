/**
 * `seed`: seeding the demo world's season window into a fresh DuckDB file (`npm run seed` / the first `npm start`): the
 * default window (165 past dates, today, tomorrow), then the same call again (nothing to do), then the call a day later
 * (yesterday's slate becomes final, a new tomorrow is added). Wall time, where it went, rows, file size, peak RSS.
 */
import { statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { addDays, etDate } from '../../shared/dates/game-date.js';
import { seedWorld, seasonWindow, type WorldSummary } from '../demo/seed-world.js';
import { round, type BenchContext, type Benchmark } from './common.js';

export const seedBenchmark: Benchmark = {
  name: 'seed',
  description: 'seed the season window (165 past dates + today + tomorrow) into a fresh DuckDB file; again; a day later',
  async run(ctx: BenchContext) {
    const dir = join(ctx.worldDir, 'season-seed');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'warehouse.duckdb');
    const modelsDir = join(dir, 'models');
    const today = etDate(new Date());
    const warehouse = await DuckDbWarehouse.open({ path });
    const runs: Array<[string, () => Promise<WorldSummary>]> = [
      ['fresh', () => seedWorld({ warehouse, modelsDir, today, ...seasonWindow(today), log: (l) => ctx.log(`  seed: ${l}`) })],
      ['present', () => seedWorld({ warehouse, modelsDir, today, ...seasonWindow(today) })],
      [
        'next day',
        () =>
          seedWorld({ warehouse, modelsDir, today: addDays(today, 1), ...seasonWindow(addDays(today, 1)), from: seasonWindow(today).from }),
      ],
    ];
    try {
      for (const [run, call] of runs) {
        const s = await call();
        ctx.emit({
          name: 'seed',
          run,
          action: s.action,
          window: `${s.from} … ${s.to}`,
          dates: s.dates,
          games: s.games,
          candidates: s.candidates,
          rows_written: Object.values(s.rows).reduce((a, b) => a + b, 0),
          wall_s: round(s.seconds, 1),
          generate_s: round(s.timings.generate, 1),
          append_s: round(s.timings.append, 1),
          train_s: round(s.timings.train, 1),
          file_mb: round(statSync(path).size / 2 ** 20, 0),
          peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 0),
        });
      }
    } finally {
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
