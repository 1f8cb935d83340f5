/**
 * `start`: POST /start → 202 for the 15-game demo slate (~500 candidates) with 8 registered models, on the local stack over
 * the DuckDB file, first without added latency and then with the simulated round trip. Each run resets the date (deletes
 * its predictions and staging rows), and waits for the batch's phase-5 message before the next, so runs do not overlap.
 * Reported: warehouse queries per /start (from the response summary), p50/p95 of the time to the 202.
 */
import { percentile, round, type BenchContext, type Benchmark } from './common.js';
import { benchOptions } from './options.js';
import { COPY_SUFFIX, openWorld } from './world.js';
import { param } from '../../shared/ports/warehouse.js';
import { runStart, startBenchStack, type StartRun } from './stack.js';

async function measure(ctx: BenchContext, rttMs: number, runs: number, warmUp: boolean): Promise<void> {
  const world = await openWorld(ctx.worldDir, rttMs, ctx.log);
  const stack = await startBenchStack(world);
  try {
    const models = stack.models.loaded.length;
    if (stack.models.refused.length > 0) throw new Error(`models refused: ${JSON.stringify(stack.models.refused)}`);
    let warm: StartRun | null = null;
    if (warmUp) {
      warm = await runStart(stack, world, 120_000);
      ctx.log(`start: rtt ${rttMs} ms warm-up: ${warm.startMs.toFixed(0)} ms to 202, ${warm.queries} queries`);
    }
    const samples: StartRun[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await runStart(stack, world, 180_000);
      samples.push(r);
      ctx.log(
        `start: rtt ${rttMs} ms run ${i + 1}/${runs}: ${r.startMs.toFixed(0)} ms to 202 (${r.queries} queries, ${r.published}/${r.candidates} published; phases ${JSON.stringify(r.phaseMs)}); phase 5 after ${(r.phase5Ms / 1000).toFixed(1)} s`,
      );
    }
    const ms = samples.map((s) => s.startMs);
    const queries = [...new Set(samples.map((s) => s.queries))];
    const first = samples[0];
    ctx.emit({
      name: 'start',
      rtt_ms: rttMs,
      case: 'all candidates, 8 models',
      candidates: first?.candidates ?? null,
      published: first?.published ?? null,
      models,
      warehouse_queries: queries.join('/'),
      runs,
      warm_up_ms: warm ? round(warm.startMs, 0) : null,
      p50_ms: round(percentile(ms, 50), 0),
      p95_ms: round(percentile(ms, 95), 0),
      min_ms: round(Math.min(...ms), 0),
      max_ms: round(Math.max(...ms), 0),
      lines_phase_ms_p50: round(
        percentile(
          samples.map((s) => Number(s.phaseMs.lines)),
          50,
        ),
        0,
      ),
      runs_ms: ms.map((m) => round(m, 0)).join(' '),
    });
    if (rttMs === 0) await queryMatrix(ctx, stack, world);
  } finally {
    await stack.close();
    await world.warehouse.close();
  }
}

/** Warehouse queries per /start with fewer players (player_lookups) and with the 4 copies disabled (4 models). */
async function queryMatrix(
  ctx: BenchContext,
  stack: Awaited<ReturnType<typeof startBenchStack>>,
  world: Awaited<ReturnType<typeof openWorld>>,
): Promise<void> {
  const players = await world.warehouse.query({
    name: 'bench.start.players',
    sql: 'SELECT DISTINCT player_lookup FROM {{nba_analytics.upcoming_player_game_context}} WHERE game_date = @d ORDER BY player_lookup LIMIT 50',
    params: { d: param.date(world.gameDate) },
  });
  const setCopies = (enabled: boolean) =>
    world.warehouse.transaction('bench.start.copies', [
      {
        name: 'bench.start.copies',
        sql: `UPDATE {{nba_predictions.model_registry}} SET enabled = @e WHERE model_id LIKE '%${COPY_SUFFIX}'`,
        params: { e: param.bool(enabled) },
      },
    ]);
  const cases: Array<{ label: string; body: Record<string, unknown>; models: number }> = [
    { label: 'all candidates, 8 models', body: {}, models: 8 },
    { label: '50 players, 8 models', body: { player_lookups: players.map((p) => String(p.player_lookup)) }, models: 8 },
    { label: 'all candidates, 4 models', body: {}, models: 4 },
  ];
  for (const c of cases) {
    if (c.models === 4) await setCopies(false);
    try {
      const r = await runStart(stack, world, 120_000, c.body);
      ctx.log(`start: ${c.label}: ${r.queries} warehouse queries (${r.candidates} candidates)`);
      ctx.emit({
        name: 'start',
        rtt_ms: 0,
        case: c.label,
        candidates: r.candidates,
        published: r.published,
        models: c.models,
        warehouse_queries: String(r.queries),
        runs: 1,
        p50_ms: round(r.startMs, 0),
      });
    } finally {
      if (c.models === 4) await setCopies(true);
    }
  }
}

export const startBenchmark: Benchmark = {
  name: 'start',
  description: 'POST /start → 202, 15 games, 8 models, without and with the simulated round trip',
  async run(ctx: BenchContext) {
    const opts = benchOptions();
    await measure(ctx, 0, opts.runs, true);
    if (ctx.rttMs > 0) await measure(ctx, ctx.rttMs, opts.rttRuns, false);
  },
};
