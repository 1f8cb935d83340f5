/**
 * `inference`: rows per second for one model through onnxruntime-node (OnnxModelRuntime) and through the plain TypeScript
 * evaluator (shared/catboost/evaluator.ts) at batch sizes 1, 50, 500 and 5000.
 *
 * Models: the demo champion (catboost_v9_demo: retrained here exactly as seedWorld trains it — same world, seed and
 * settings, 120 trees of depth 6 over the 33 v9 features — so the evaluator has its trees), and the real CatBoost model
 * ../shared/fixtures/catboost/nba/A1_20260129_210936.cbm converted in memory with convertCbmToOnnx (skipped with a note when
 * the file is absent). Input rows are the demo world's training rows (feature values by name; absent → NaN).
 * onnxruntime settings: intraOpNumThreads 1 (the worker's default ORT_INTRA_OP_THREADS), interOpNumThreads 1, sequential
 * execution, graph optimisation 'all'; batches 500 and 5000 are also measured with intraOpNumThreads 2.
 * Each cell runs for ~0.8 s (at least 5 calls) after 3 warm-up calls; the 2-thread cells run last, in their own session.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime.js';
import { convertCbmToOnnx } from '../../shared/catboost/convert.js';
import { evaluateBatch } from '../../shared/catboost/evaluator.js';
import type { ObliviousEnsemble } from '../../shared/catboost/oblivious-ensemble.js';
import { writeOnnx } from '../../shared/catboost/onnx-writer.js';
import { FAMILY_FEATURES } from '../../shared/contracts/feature-contract.js';
import { etDate } from '../../shared/dates/game-date.js';
import { buildTrainingSet, familyMatrix, type TrainingExample } from '../demo/demo-models.js';
import { trainObliviousBoosting } from '../demo/trainer.js';
import { generateWorld } from '../demo/world.js';
import { round, type BenchContext, type Benchmark } from './common.js';
import { BENCH_GAMES } from './world.js';

export const REAL_CBM = resolve('..', 'shared', 'fixtures', 'catboost', 'nba', 'A1_20260129_210936.cbm');
const BATCHES = [1, 50, 500, 5000] as const;
const CELL_MS = 800;
const MAX_ROWS = 5000;

interface Subject {
  label: string;
  model: ObliviousEnsemble;
  onnx: Uint8Array;
  depth: number;
}

/** The demo champion, trained as seedWorld trains it (demo-models.ts), and the training rows. */
function demoModel(log: (l: string) => void): { subject: Subject; examples: TrainingExample[] } {
  const today = etDate(new Date());
  const world = generateWorld({ slateDates: [today], today, games: BENCH_GAMES });
  const examples = buildTrainingSet(world.history);
  const dates = [...new Set(examples.map((e) => e.gameDate))].sort();
  const cutoff = dates[Math.floor(dates.length * 0.85)] as string;
  const train = examples.filter((e) => e.gameDate < cutoff);
  const featureNames = [...FAMILY_FEATURES.v9];
  const t0 = performance.now();
  const model = trainObliviousBoosting(
    { x: familyMatrix(train, 'v9'), y: Float64Array.from(train.map((e) => e.points)), rows: train.length, featureNames },
    { trees: 120, depth: 6, learningRate: 0.08, loss: 'rmse', seed: 1 },
  );
  log(`inference: trained the demo v9 model in ${((performance.now() - t0) / 1000).toFixed(1)} s (${train.length} rows)`);
  return {
    subject: { label: 'demo v9 (120 trees, depth 6, 33 features)', model, onnx: writeOnnx(model, { family: 'v9' }), depth: 6 },
    examples,
  };
}

function inputRows(examples: readonly TrainingExample[], names: readonly string[], rows: number): Float32Array {
  const x = new Float32Array(rows * names.length);
  for (let r = 0; r < rows; r++) {
    const e = examples[r % examples.length] as TrainingExample;
    const f = e.features as Record<string, number | undefined>;
    names.forEach((n, j) => (x[r * names.length + j] = f[n] ?? Number.NaN));
  }
  return x;
}

async function cell(work: () => unknown): Promise<{ calls: number; ms: number }> {
  for (let i = 0; i < 3; i++) await work();
  let calls = 0;
  const t0 = performance.now();
  let ms = 0;
  while (ms < CELL_MS || calls < 5) {
    await work();
    calls++;
    ms = performance.now() - t0;
  }
  return { calls, ms };
}

async function measureCell(
  ctx: BenchContext,
  s: Subject,
  maxDiff: number,
  engine: string,
  threads: number | null,
  batch: number,
  work: () => unknown,
): Promise<void> {
  const { calls, ms } = await cell(work);
  const rowsPerS = (calls * batch) / (ms / 1000);
  ctx.log(`inference: ${s.label} ${engine}${threads ? ` (${threads} intra-op threads)` : ''} batch ${batch}: ${round(rowsPerS, 0)} rows/s`);
  ctx.emit({
    name: 'inference',
    model: s.label,
    engine,
    intra_op_threads: threads,
    batch,
    calls,
    us_per_call: round((ms * 1000) / calls, 1),
    rows_per_s: round(rowsPerS, 0),
    max_abs_diff_vs_evaluator: round(maxDiff, 6),
  });
}

export const inferenceBenchmark: Benchmark = {
  name: 'inference',
  description: 'rows/s: onnxruntime vs the plain evaluator at batch 1/50/500/5000',
  async run(ctx: BenchContext) {
    const { subject: demo, examples } = demoModel(ctx.log);
    const subjects: Subject[] = [demo];
    if (existsSync(REAL_CBM)) {
      const { onnx, model, info } = convertCbmToOnnx(readFileSync(REAL_CBM));
      subjects.push({
        label: `real A1 (${info.trees} trees, depth ${info.depth}, ${info.features} features)`,
        model,
        onnx,
        depth: info.depth,
      });
    } else {
      ctx.log(`inference: ${REAL_CBM} is absent; the real CatBoost model is skipped`);
      ctx.emit({ name: 'inference', model: 'real A1 .cbm', note: `skipped: ${REAL_CBM} not found` });
    }

    for (const s of subjects) {
      const names = s.model.featureNames;
      const width = names.length;
      const x = inputRows(examples, names, MAX_ROWS);
      // Phase 1: onnxruntime at 1 intra-op thread and the evaluator. Phase 2 (batches 500 and 5000): onnxruntime at 2
      // intra-op threads, in a session of its own loaded only then, so its spinning threads cannot slow the other cells.
      const one = await new OnnxModelRuntime({ intraOpNumThreads: 1 }).load(s.onnx);
      let maxDiff = 0;
      try {
        // Parity check over all rows: onnxruntime (float32 leaves) vs the evaluator (float64).
        const ort = await one.run(x, MAX_ROWS);
        const ev = evaluateBatch(s.model, x, MAX_ROWS);
        for (let i = 0; i < MAX_ROWS; i++) maxDiff = Math.max(maxDiff, Math.abs((ort[i] as number) - (ev[i] as number)));
        for (const batch of BATCHES) {
          const slice = x.subarray(0, batch * width);
          await measureCell(ctx, s, maxDiff, 'onnxruntime', 1, batch, () => one.run(slice, batch));
          await measureCell(ctx, s, maxDiff, 'evaluator', null, batch, () => evaluateBatch(s.model, slice, batch));
        }
      } finally {
        await one.close();
      }
      const two = await new OnnxModelRuntime({ intraOpNumThreads: 2 }).load(s.onnx);
      try {
        for (const batch of [500, 5000]) {
          const slice = x.subarray(0, batch * width);
          await measureCell(ctx, s, maxDiff, 'onnxruntime', 2, batch, () => two.run(slice, batch));
        }
      } finally {
        await two.close();
      }
    }
  },
};
