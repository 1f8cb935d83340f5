/**
 * The demo models: oblivious-tree boosting models trained on the demo world's history and written as ONNX, plus their
 * nba_predictions.model_registry rows. Each past player-game (with at least three earlier games played) becomes one
 * training row: its features as of that game (computeFeatures over the games before it, with the line books hung on it) and
 * the points scored. The last ~15 % of the history's dates are held out for evaluation_mae and hit rates.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FAMILY_FEATURES, FEATURE_COUNT, FEATURE_NAMES, type ModelFamily } from '../../shared/contracts/feature-contract.js';
import { missingValue } from '../../shared/contracts/feature-fills.js';
import { evaluateBatch } from '../../shared/catboost/evaluator.js';
import { writeOnnx } from '../../shared/catboost/onnx-writer.js';
import { computeFeatures, type FeatureMap, type GameLogEntry } from './features.js';
import type { Loss } from './trainer.js';
import { defaultTrainThreads, trainAll, workerThreadsAvailable, type TrainJob, type Trained } from './train-pool.js';
import type { PlayerHistory } from './world.js';

export interface TrainingExample {
  gameDate: string;
  features: FeatureMap;
  points: number;
  /** The line books hung on the game, or null. */
  line: number | null;
}

export interface DemoModelSpec {
  modelId: string;
  family: ModelFamily;
  loss: Loss;
  production: boolean;
}

export const DEMO_MODELS: readonly DemoModelSpec[] = [
  { modelId: 'catboost_v9_demo', family: 'v9', loss: 'rmse', production: true },
  { modelId: 'catboost_v12_noveg_demo', family: 'v12_noveg', loss: 'rmse', production: false },
  { modelId: 'catboost_v9_q43_demo', family: 'v9', loss: { quantile: 0.43 }, production: false },
  { modelId: 'catboost_v12_demo', family: 'v12', loss: 'rmse', production: false },
];

/** A nba_predictions.model_registry row (every required column of shared/contracts/tables.ts, plus the useful optional ones). */
export type RegistryRow = {
  model_id: string;
  model_version: string;
  model_type: string;
  gcs_path: string;
  feature_count: number;
  features_json: string;
  training_start_date: string;
  training_end_date: string;
  training_samples: number;
  evaluation_mae: number;
  evaluation_hit_rate: number | null;
  evaluation_hit_rate_edge_3plus: number | null;
  evaluation_n_edge_3plus: number;
  status: string;
  is_production: boolean;
  enabled: boolean;
  model_family: string;
  feature_set: ModelFamily;
  loss_function: string;
  quantile_alpha: number | null;
  sha256_hash: string;
  notes: string;
  created_at: string;
  created_by: string;
};

export interface DemoModelReport {
  modelId: string;
  trainRows: number;
  holdoutRows: number;
  seconds: number;
  holdoutMae: number;
  /** MAE of points_avg_last_10 on the same hold-out rows. */
  baselineMae: number;
}

export interface BuildDemoModelsOptions {
  /** The world (its per-player history, used before `trainBefore` when given) or ready-made training rows. */
  world: { history: readonly PlayerHistory[]; trainBefore?: string } | { examples: readonly TrainingExample[] };
  modelsDir: string;
  /** Trees per model (default 120). */
  trees?: number;
  depth?: number;
  learningRate?: number;
  /** Registry created_at (default now). */
  createdAt?: string;
  /** Worker threads that train the models at once (default: one per core, at most 4); 0 trains in this thread. */
  threads?: number;
  models?: readonly DemoModelSpec[];
  log?: (line: string) => void;
  onReport?: (report: DemoModelReport) => void;
}

/** One training row per past player-game (before `before`, when given) with ≥ 3 earlier games played, in date order. */
export function buildTrainingSet(history: readonly PlayerHistory[], before?: string): TrainingExample[] {
  const out: TrainingExample[] = [];
  for (const player of history) {
    const games = player.games;
    let played = 0;
    for (let i = 0; i < games.length; i++) {
      const game = games[i] as GameLogEntry;
      if (game.isDnp || (before !== undefined && game.gameDate >= before)) continue;
      const context = player.contexts[i];
      if (played >= 3 && context) {
        // The games before this one, read in place (a copy of every prefix made this quadratic in the log's length).
        out.push({ gameDate: game.gameDate, features: computeFeatures(games, context, i), points: game.points, line: game.line });
      }
      played++;
    }
  }
  return out.sort((a, b) => (a.gameDate < b.gameDate ? -1 : a.gameDate > b.gameDate ? 1 : 0));
}

const FEATURE_INDEX: ReadonlyMap<string, number> = new Map(FEATURE_NAMES.map((name, i) => [name, i]));

/** The examples' feature values in store order: `values` row-major (FEATURE_COUNT a row), `present` 1 where a value is. */
export interface FeatureRows {
  values: Float64Array;
  present: Uint8Array;
}

/**
 * Every example's features as store-ordered rows, from one walk of each example's map: a family matrix then picks its
 * columns by index (looking each feature up by name, for every family and split, cost several times more).
 */
export function featureRows(examples: readonly TrainingExample[]): FeatureRows {
  const values = new Float64Array(examples.length * FEATURE_COUNT);
  const present = new Uint8Array(examples.length * FEATURE_COUNT);
  for (let r = 0; r < examples.length; r++) {
    const features = (examples[r] as TrainingExample).features as Record<string, number | undefined>;
    const base = r * FEATURE_COUNT;
    for (const name in features) {
      const j = FEATURE_INDEX.get(name);
      const v = features[name];
      if (j === undefined || v === undefined || v === null) continue;
      values[base + j] = v;
      present[base + j] = 1;
    }
  }
  return { values, present };
}

/** Row-major float32 matrix of a family's inputs; absent values take the family's missing value (as the worker does), or NaN. */
export function familyMatrix(examples: readonly TrainingExample[], family: ModelFamily, rows = featureRows(examples)): Float32Array {
  const names = FAMILY_FEATURES[family];
  const width = names.length;
  const columns = Int32Array.from(names, (name) => FEATURE_INDEX.get(name) as number);
  const fills = Float64Array.from(names, (name) => missingValue(family, name) ?? Number.NaN);
  const x = new Float32Array(examples.length * width);
  const { values, present } = rows;
  for (let r = 0; r < examples.length; r++) {
    const base = r * FEATURE_COUNT;
    for (let j = 0; j < width; j++) {
      const k = base + (columns[j] as number);
      x[r * width + j] = present[k] === 1 ? (values[k] as number) : (fills[j] as number);
    }
  }
  return x;
}

const lossName = (loss: Loss): string => (loss === 'rmse' ? 'RMSE' : `Quantile:alpha=${loss.quantile}`);
const lossTag = (loss: Loss): string => (loss === 'rmse' ? 'rmse' : `q${Math.round(loss.quantile * 100)}`);
const r4 = (x: number): number => Math.round(x * 10_000) / 10_000;

// eslint-disable-next-line complexity -- one training pipeline (split, fit each model family, register); its steps share the split and the registry rows
export async function buildDemoModels(opts: BuildDemoModelsOptions): Promise<RegistryRow[]> {
  const examples = 'examples' in opts.world ? [...opts.world.examples] : buildTrainingSet(opts.world.history, opts.world.trainBefore);
  if (examples.length < 50) throw new Error(`buildDemoModels: only ${examples.length} training rows`);
  const dates = [...new Set(examples.map((e) => e.gameDate))].sort();
  const cutoff = dates[Math.floor(dates.length * 0.85)] as string;
  const train = examples.filter((e) => e.gameDate < cutoff);
  const holdout = examples.filter((e) => e.gameDate >= cutoff);
  const y = Float64Array.from(train.map((e) => e.points));
  const createdAt = opts.createdAt ?? new Date().toISOString();
  const log = opts.log ?? ((): void => {});
  await mkdir(opts.modelsDir, { recursive: true });
  const baselineMae = holdout.reduce((a, e) => a + Math.abs((e.features.points_avg_last_10 ?? 0) - e.points), 0) / holdout.length;
  const rows: RegistryRow[] = [];

  const specs = opts.models ?? DEMO_MODELS;
  // One matrix per family and split (two demo models share v9).
  const matrices = new Map<string, Float32Array>();
  const splitRows = { train: featureRows(train), holdout: featureRows(holdout) };
  const matrixOf = (family: ModelFamily, split: 'train' | 'holdout' = 'train'): Float32Array => {
    let x = matrices.get(`${family}/${split}`);
    if (!x) {
      x = familyMatrix(split === 'train' ? train : holdout, family, splitRows[split]);
      matrices.set(`${family}/${split}`, x);
    }
    return x;
  };
  const jobs: TrainJob[] = specs.map((spec) => ({
    data: { x: matrixOf(spec.family), y, rows: train.length, featureNames: [...FAMILY_FEATURES[spec.family]] },
    opts: { trees: opts.trees ?? 120, depth: opts.depth ?? 6, learningRate: opts.learningRate ?? 0.08, loss: spec.loss, seed: 1 },
  }));
  const threads = workerThreadsAvailable() ? Math.min(jobs.length, opts.threads ?? defaultTrainThreads()) : 0;
  log(
    `training ${jobs.length} models on ${train.length} rows (games ${train[0]?.gameDate ?? '?'} … ${train[train.length - 1]?.gameDate ?? '?'}) ${threads > 0 ? `on ${threads} worker thread${threads === 1 ? '' : 's'}` : 'in this thread'}`,
  );
  const trained = await trainAll(jobs, threads);

  for (const [k, spec] of specs.entries()) {
    const featureNames = [...FAMILY_FEATURES[spec.family]];
    const { model, seconds } = trained[k] as Trained;
    const pred = evaluateBatch(model, matrixOf(spec.family, 'holdout'), holdout.length);
    let absErr = 0;
    let hits = 0;
    let bets = 0;
    let hits3 = 0;
    let bets3 = 0;
    holdout.forEach((e, i) => {
      const p = pred[i] as number;
      absErr += Math.abs(Math.min(60, Math.max(0, p)) - e.points);
      if (e.line === null || p === e.line || e.points === e.line) return;
      const hit = p > e.line === e.points > e.line;
      bets++;
      if (hit) hits++;
      if (Math.abs(p - e.line) >= 3) {
        bets3++;
        if (hit) hits3++;
      }
    });
    const mae = absErr / holdout.length;
    const loss = lossName(spec.loss);
    const bytes = writeOnnx(model, { family: spec.family, model_id: spec.modelId, loss, trained_rows: String(train.length) });
    const fileName = `${spec.modelId}.onnx`;
    await writeFile(join(opts.modelsDir, fileName), bytes);
    const report: DemoModelReport = {
      modelId: spec.modelId,
      trainRows: train.length,
      holdoutRows: holdout.length,
      seconds,
      holdoutMae: mae,
      baselineMae,
    };
    opts.onReport?.(report);
    log(
      `${spec.modelId}: ${featureNames.length} features, ${train.length} rows, ${seconds.toFixed(2)} s; hold-out MAE ${mae.toFixed(3)} vs points_avg_last_10 ${baselineMae.toFixed(3)}`,
    );
    rows.push({
      model_id: spec.modelId,
      model_version: `demo_${train[train.length - 1]?.gameDate ?? cutoff}`,
      model_type: 'catboost',
      gcs_path: fileName,
      feature_count: featureNames.length,
      features_json: JSON.stringify(featureNames),
      training_start_date: train[0]?.gameDate ?? cutoff,
      training_end_date: train[train.length - 1]?.gameDate ?? cutoff,
      training_samples: train.length,
      evaluation_mae: r4(mae),
      evaluation_hit_rate: bets > 0 ? r4(hits / bets) : null,
      evaluation_hit_rate_edge_3plus: bets3 > 0 ? r4(hits3 / bets3) : null,
      evaluation_n_edge_3plus: bets3,
      status: 'active',
      is_production: spec.production,
      enabled: true,
      model_family: `${spec.family}_${lossTag(spec.loss)}`,
      feature_set: spec.family,
      loss_function: loss,
      quantile_alpha: spec.loss === 'rmse' ? null : spec.loss.quantile,
      sha256_hash: createHash('sha256').update(bytes).digest('hex'),
      notes: `demo model trained on the synthetic demo world; hold-out ${holdout.length} rows from ${cutoff}, baseline MAE ${baselineMae.toFixed(3)}`,
      created_at: createdAt,
      created_by: 'bin/demo/demo-models',
    });
  }
  return rows;
}
