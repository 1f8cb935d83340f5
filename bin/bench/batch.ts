/**
 * `batch`: POST /start → phase-5 message for the bench world's slate (276 published players × 8 models) on the embedded
 * default (DuckDB file, local bus over loopback HTTP, both services in this process), against the sum of its floors,
 * measured side by side in the same process, round after round:
 *   (a) onnxruntime alone: each of the 8 models' sessions (the worker's own) run once on all published players' vectors;
 *   (b) one DuckDB append of all the batch's staging rows (as the worker handed them over) into a fresh staging table;
 *   (c) POST /start → its answer (the batch's own);
 *   (d) the merge alone: the consolidation transaction on those staged rows, into a fresh predictions table.
 * The first batch of the process is cold and reported apart; each round then runs one warm batch and its floors.
 * Peak RSS is this process's maxRSS (process.resourceUsage).
 */
import { playerPropPredictions, predictionStaging } from '../../shared/contracts/tables.js';
import { buildVector } from '../../shared/contracts/feature-vector.js';
import { predictionRequestSchema, type PlayerRequest } from '../../shared/contracts/messages.js';
import type { InsertRequest, Query, QueryResult, Row, TransactionResult, Warehouse } from '../../shared/ports/warehouse.js';
import { consolidationPlan } from '../../services/coordinator/batch/merge-sql.js';
import type { LocalStack } from '../local-stack.js';
import { median, round, timed, type BenchContext, type Benchmark } from './common.js';
import { benchOptions } from './options.js';
import { openWorld, type BenchWorld } from './world.js';
import { runStart, startBenchStack, type StartRun } from './stack.js';
import { phasesOf } from './season.js';

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const STAGING = 'nba_predictions.prediction_staging';

/** What the services query through: the warehouse itself, keeping the staging rows appended while `recording`. */
class StagingRecorder implements Warehouse {
  rows: Row[] = [];
  recording = false;
  constructor(private readonly inner: Warehouse) {}
  query(q: Query): Promise<Row[]> {
    return this.inner.query(q);
  }
  queryWithWarnings(q: Query): Promise<QueryResult> {
    return this.inner.queryWithWarnings(q);
  }
  async insert(req: InsertRequest): Promise<void> {
    await this.inner.insert(req);
    if (this.recording && req.table === STAGING) this.rows.push(...req.rows);
  }
  transaction(name: string, statements: Query[]): Promise<TransactionResult> {
    return this.inner.transaction(name, statements);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The published players of a batch, from its request messages. */
export function publishedPlayers(run: StartRun): PlayerRequest[] {
  return run.requests.flatMap((m) => predictionRequestSchema.parse(m).players);
}

interface Floors {
  onnxMs: number;
  appendMs: number;
  mergeMs: number;
  mergedRows: number;
}

/** Floors (a), (b) and (d) for one batch: its players' vectors through every model, its staging rows appended and merged. */
async function measureFloors(world: BenchWorld, stack: LocalStack, run: StartRun, rows: Row[], round: number): Promise<Floors> {
  const players = publishedPlayers(run);
  let onnxMs = 0;
  for (const m of stack.models.loaded) {
    const input = new Float32Array(players.length * m.width);
    players.forEach((p, i) => buildVector(m.family, p.features ?? {}, input, i * m.width));
    onnxMs += (await timed(() => m.session.run(input, players.length))).ms;
  }
  const prefix = `bench_floor_${round}`;
  const wh = world.warehouse;
  await wh.ensureTables([predictionStaging, playerPropPredictions], prefix);
  try {
    const append = await timed(() => wh.insert({ name: 'bench.floor.append', table: STAGING, rows, datasetPrefix: prefix }));
    const batchId = String(rows[0]?.batch_id);
    const plan = consolidationPlan({ game_date: world.gameDate, batch_id: batchId, dataset_prefix: prefix, supersede: null }, new Date());
    const merge = await timed(() => wh.transaction('bench.floor.merge', plan.statements));
    return { onnxMs, appendMs: append.ms, mergeMs: merge.ms, mergedRows: merge.value.statements[plan.at.merge]?.affectedRows ?? 0 };
  } finally {
    await wh.dropPrefix(prefix);
  }
}

export const batchBenchmark: Benchmark = {
  name: 'batch',
  description: '/start → phase-5 on the embedded default (276 players × 8 models) against the sum of its floors, side by side',
  async run(ctx: BenchContext) {
    const world = await openWorld(ctx.worldDir, 0, ctx.log);
    const rssBeforeMb = process.resourceUsage().maxRSS / 1024;
    const recorder = new StagingRecorder(world.warehouse);
    const stack = await startBenchStack(world, { warehouse: recorder });
    const rounds = benchOptions().runs;
    const ratios: number[] = [];
    try {
      for (let i = 0; i <= rounds; i++) {
        const label = i === 0 ? 'cold' : `warm ${i}/${rounds}`;
        recorder.rows = [];
        recorder.recording = true;
        const r = await runStart(stack, world, 180_000);
        recorder.recording = false;
        const meta = obj(r.message.metadata);
        const predictions = Number(meta.total_predictions);
        const row = {
          name: 'batch',
          run: label,
          candidates: r.candidates,
          published: r.published,
          models: stack.models.loaded.length,
          messages: r.requests.length,
          phase5_status: String(r.message.status),
          predictions,
          staged_rows: recorder.rows.length,
          batch_ms: round(r.phase5Ms, 0),
        };
        if (i === 0) {
          ctx.emit({
            ...row,
            start_ms: round(r.startMs, 0),
            peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 0),
            rss_before_stack_mb: round(rssBeforeMb, 0),
          });
          continue;
        }
        const batch = await stack.batches.latestForDate(world.gameDate);
        const ph = batch ? phasesOf(batch) : null;
        const f = await measureFloors(world, stack, r, recorder.rows, i);
        const floors = f.onnxMs + f.appendMs + r.startMs + f.mergeMs;
        ratios.push(r.phase5Ms / floors);
        ctx.log(
          `batch ${label}: ${r.phase5Ms.toFixed(0)} ms vs floors ${floors.toFixed(0)} ms (onnx ${f.onnxMs.toFixed(0)}, append ${f.appendMs.toFixed(0)}, /start ${r.startMs.toFixed(0)}, merge ${f.mergeMs.toFixed(0)})`,
        );
        ctx.emit({
          ...row,
          floor_onnx_ms: round(f.onnxMs, 1),
          floor_append_ms: round(f.appendMs, 1),
          floor_start_ms: round(r.startMs, 1),
          floor_merge_ms: round(f.mergeMs, 1),
          floor_merged_rows: f.mergedRows,
          floors_sum_ms: round(floors, 0),
          ratio: round(r.phase5Ms / floors, 2),
          phase_dispatch_ms: ph ? round(ph.dispatch, 0) : null,
          phase_predict_ms: ph ? round(ph.predict, 0) : null,
          phase_queue_ms: ph ? round(ph.queue, 0) : null,
          phase_consolidate_ms: ph ? round(ph.consolidate, 0) : null,
          phase_close_ms: ph ? round(ph.close, 0) : null,
          peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 0),
        });
      }
      ctx.emit({ name: 'batch', run: `median of ${rounds} warm`, ratio: round(median(ratios), 2) });
    } finally {
      await stack.close();
      await world.warehouse.close();
    }
  },
};
