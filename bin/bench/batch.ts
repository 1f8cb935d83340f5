/**
 * `batch`: POST /start → phase-5 message for the 15-game slate with 8 models on the embedded default (DuckDB file, local
 * bus over loopback HTTP, both services in this process). The first run is cold (fresh process, first batch); a second
 * run follows on the same stack. Peak RSS is this process's maxRSS (process.resourceUsage), i.e. including seeding
 * when this child had to seed the world (reported as seeded_in_process).
 */
import { round, type BenchContext, type Benchmark } from './common.js';
import { openWorld } from './world.js';
import { runStart, startBenchStack } from './stack.js';

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});

export const batchBenchmark: Benchmark = {
  name: 'batch',
  description: '/start → phase-5 on the embedded default: wall time, predictions/s, peak RSS',
  async run(ctx: BenchContext) {
    const world = await openWorld(ctx.worldDir, 0, ctx.log);
    const rssBeforeMb = process.resourceUsage().maxRSS / 1024;
    const stack = await startBenchStack(world);
    try {
      for (const label of ['cold', 'warm']) {
        const r = await runStart(stack, world, 180_000);
        const meta = obj(r.message.metadata);
        const predictions = Number(meta.total_predictions);
        ctx.log(`batch ${label}: phase 5 '${String(r.message.status)}' after ${(r.phase5Ms / 1000).toFixed(2)} s, ${predictions} predictions`);
        ctx.emit({
          name: 'batch',
          run: label,
          candidates: r.candidates,
          published: r.published,
          models: stack.models.loaded.length,
          phase5_status: String(r.message.status),
          players_completed: Number(r.message.record_count),
          predictions,
          start_202_ms: round(r.startMs, 0),
          wall_s: round(r.phase5Ms / 1000, 2),
          predictions_per_s: round(predictions / (r.phase5Ms / 1000), 0),
          peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 0),
          rss_before_stack_mb: round(rssBeforeMb, 0),
          seeded_in_process: world.seededNow,
        });
      }
    } finally {
      await stack.close();
      await world.warehouse.close();
    }
  },
};
