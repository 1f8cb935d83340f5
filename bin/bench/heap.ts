/**
 * `heap`: 50 batches back to back on one stack (the bench world's slate, 276 players × 8 models, the date reset before each
 * batch), in a child started with --expose-gc: after batches 5, 10, …, 50, a full GC then `process.memoryUsage()`. Reported:
 * the heap used after each, and after 50 against after 5; with what the local bus still holds in memory (its per-topic
 * logs and acked-message maps).
 */
import { round, type BenchContext, type Benchmark } from './common.js';
import { openWorld } from './world.js';
import { runStart, startBenchStack } from './stack.js';

const BATCHES = 50;
const EVERY = 5;

export const heapBenchmark: Benchmark = {
  name: 'heap',
  description: 'heap used after 5 and after 50 consecutive batches on one stack (GC forced before each reading)',
  capMs: 900_000,
  // 50 batches take minutes: run by name only (`npm run bench -- --only heap`).
  onlyByName: true,
  nodeFlags: ['--expose-gc'],
  async run(ctx: BenchContext) {
    const gc = globalThis.gc;
    if (!gc) throw new Error('heap needs a forced GC: run it as a child (the default) or with node --expose-gc');
    const world = await openWorld(ctx.worldDir, 0, ctx.log);
    const stack = await startBenchStack(world);
    let at5 = 0;
    try {
      for (let i = 1; i <= BATCHES; i++) {
        const r = await runStart(stack, world, 180_000);
        if (String(r.message.status) !== 'success') throw new Error(`batch ${i}: phase 5 '${String(r.message.status)}'`);
        if (i % EVERY !== 0) continue;
        gc();
        gc();
        const m = process.memoryUsage();
        if (i === EVERY) at5 = m.heapUsed;
        const topics = Object.values(stack.topics).filter((t): t is string => typeof t === 'string');
        const busLog = topics.reduce((n, t) => n + stack.bus.published(t).length, 0);
        ctx.log(
          `heap after batch ${i}: ${(m.heapUsed / 2 ** 20).toFixed(1)} MB used, rss ${(m.rss / 2 ** 20).toFixed(0)} MB, bus log ${busLog} messages`,
        );
        ctx.emit({
          name: 'heap',
          after_batch: i,
          heap_used_mb: round(m.heapUsed / 2 ** 20, 1),
          vs_after_5: round(m.heapUsed / at5, 3),
          heap_total_mb: round(m.heapTotal / 2 ** 20, 1),
          external_mb: round(m.external / 2 ** 20, 1),
          rss_mb: round(m.rss / 2 ** 20, 0),
          bus_messages_in_memory: busLog,
          batch_ms: round(r.phase5Ms, 0),
        });
      }
    } finally {
      await stack.close();
      await world.warehouse.close();
    }
  },
};
