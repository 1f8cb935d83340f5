/**
 * A small, honest trainer of oblivious-tree gradient boosting (CatBoost's model shape), for the demo models.
 *
 * - Borders: per feature, up to `borderCount` quantiles of the non-NaN values, as float32 (Math.fround), strictly below the
 *   feature's maximum. Values are binned once: bin = the number of borders the value is strictly greater than, so
 *   `bin > k` ⇔ `x > border_k`, exactly the evaluator's test. NaN lands in bin 0: below every border (CatBoost AsIs/Min).
 * - Trees: level-wise and symmetric. At each level every (feature, border) is scored on the current negative gradients with
 *   histograms over (leaf, bin): score = Σ over leaves and sides of S² / (n + λ); the best split is taken for every leaf.
 *   Below the first level only the rows that went right are histogrammed; a left child is its parent minus its sibling.
 * - Leaves: rmse → Σ residual / (n + λ) (the mean step); quantile α → the α-quantile of the leaf's residuals (the exact
 *   pinball step). Both are scaled by the learning rate. Bias: mean of y (rmse) or its α-quantile (quantile).
 */
import type { ObliviousEnsemble, ObliviousSplit, ObliviousTree } from '../../shared/catboost/oblivious-ensemble.js';

export interface TrainingData {
  /** rows × featureNames.length values, row-major; NaN = missing. */
  x: Float32Array;
  y: Float64Array;
  rows: number;
  featureNames: string[];
}

export type Loss = 'rmse' | { quantile: number };

export interface TrainOptions {
  trees: number;
  depth: number;
  learningRate: number;
  loss: Loss;
  /** Borders per feature (default 64, at most 254). */
  borderCount?: number;
  /** L2 regularisation of leaf values (default 3, CatBoost's l2_leaf_reg). */
  l2?: number;
  /** Accepted for reproducibility; the algorithm itself is deterministic. */
  seed?: number;
}

/** float32 quantile borders of one column, ascending, each strictly below the column's maximum. */
export function quantileBorders(values: Float32Array, borderCount: number): number[] {
  const finite = values.filter((v) => !Number.isNaN(v)).sort();
  if (finite.length === 0) return [];
  const max = finite[finite.length - 1] as number;
  const out: number[] = [];
  for (let k = 1; k <= borderCount; k++) {
    const v = Math.fround(finite[Math.min(finite.length - 1, Math.floor((k * finite.length) / (borderCount + 1)))] as number);
    if (v < max && (out.length === 0 || v > (out[out.length - 1] as number))) out.push(v);
  }
  return out;
}

/** Number of borders strictly below x (0 for NaN). */
function binOf(borders: readonly number[], x: number): number {
  if (Number.isNaN(x)) return 0;
  let lo = 0;
  let hi = borders.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x > (borders[mid] as number)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function quantileOf(values: number[], alpha: number): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  const pos = alpha * (values.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(values.length - 1, lo + 1);
  return (values[lo] as number) + (pos - lo) * ((values[hi] as number) - (values[lo] as number));
}

/** Adds each selected row's gradient (and a count) to its (leaf, bin) cell of one feature's histogram. */
function accumulate(
  sums: Float64Array,
  counts: Float64Array,
  leafOf: Int32Array,
  nb: number,
  bins: Uint8Array,
  grad: Float64Array,
  rows: Int32Array,
  n: number,
): void {
  for (let j = 0; j < n; j++) {
    const i = rows[j] as number;
    const idx = (leafOf[i] as number) * nb + (bins[i] as number);
    sums[idx] = (sums[idx] as number) + (grad[i] as number);
    counts[idx] = (counts[idx] as number) + 1;
  }
}

export interface TrainResult {
  model: ObliviousEnsemble;
  /** The trainer's own in-sample predictions (bias + Σ leaves, from the bins), for checking against an evaluator. */
  trainPredictions: Float64Array;
}

export function trainObliviousBoosting(data: TrainingData, opts: TrainOptions): ObliviousEnsemble {
  return fitObliviousBoosting(data, opts).model;
}

/** trainObliviousBoosting, also returning the in-sample predictions. */
// eslint-disable-next-line complexity -- the boosting loop (split search, leaf values, early stop) is numerically tight; splitting it moves its state into arguments
export function fitObliviousBoosting(data: TrainingData, opts: TrainOptions): TrainResult {
  const { rows, y, x, featureNames } = data;
  const width = featureNames.length;
  if (x.length !== rows * width) throw new Error(`trainObliviousBoosting: x has ${x.length} values, expected ${rows} × ${width}`);
  if (y.length !== rows || rows === 0) throw new Error(`trainObliviousBoosting: y has ${y.length} values for ${rows} rows`);
  if (!Number.isInteger(opts.depth) || opts.depth < 1 || opts.depth > 10) throw new Error(`depth must be 1–10, got ${opts.depth}`);
  const alpha = opts.loss === 'rmse' ? null : opts.loss.quantile;
  if (alpha !== null && !(alpha > 0 && alpha < 1)) throw new Error(`quantile must be in (0, 1), got ${alpha}`);
  const borderCount = Math.min(254, Math.max(1, opts.borderCount ?? 64));
  const l2 = opts.l2 ?? 3;

  // Borders and bins, column-major.
  const borders: number[][] = [];
  const bins = new Uint8Array(rows * width);
  const column = new Float32Array(rows);
  for (let f = 0; f < width; f++) {
    for (let i = 0; i < rows; i++) column[i] = x[i * width + f] as number;
    const b = quantileBorders(column, borderCount);
    borders.push(b);
    for (let i = 0; i < rows; i++) bins[f * rows + i] = binOf(b, column[i] as number);
  }

  const bias = alpha === null ? y.reduce((a, v) => a + v, 0) / rows : quantileOf(Array.from(y), alpha);
  const pred = new Float64Array(rows).fill(bias);
  const grad = new Float64Array(rows);
  const leafOf = new Int32Array(rows);
  const trees: ObliviousTree[] = [];
  const maxLeaves = 1 << opts.depth;
  // Raw histograms per feature, (leaf, bin) → Σ gradient and row count, for this level and the level above. A level's
  // histogram is built only from the rows that just went right (about half); a left child is its parent minus its right
  // sibling (LightGBM's subtraction trick), which roughly halves the work of every level but the first.
  const nbOf = borders.map((b) => b.length + 1);
  const alloc = (): Float64Array[] => nbOf.map((nb) => new Float64Array(maxLeaves * nb));
  let curSums = alloc();
  let curCounts = alloc();
  let prevSums = alloc();
  let prevCounts = alloc();
  const cumSums = new Float64Array(maxLeaves * 256);
  const cumCounts = new Float64Array(maxLeaves * 256);
  const allRows = Int32Array.from({ length: rows }, (_, i) => i);
  const movedRows = new Int32Array(rows);

  for (let t = 0; t < opts.trees; t++) {
    for (let i = 0; i < rows; i++) {
      const r = (y[i] as number) - (pred[i] as number);
      grad[i] = alpha === null ? r : r > 0 ? alpha : alpha - 1;
    }
    leafOf.fill(0);
    const splits: ObliviousSplit[] = [];
    for (let d = 0; d < opts.depth; d++) {
      const nLeaves = 1 << d;
      const half = nLeaves >> 1;
      let selected = allRows;
      let n = rows;
      if (d > 0) {
        n = 0;
        for (let i = 0; i < rows; i++) if (((leafOf[i] as number) & half) !== 0) movedRows[n++] = i;
        selected = movedRows;
      }
      let bestScore = -Infinity;
      let bestF = -1;
      let bestK = -1;
      for (let f = 0; f < width; f++) {
        const nb = nbOf[f] as number;
        if (nb < 2) continue;
        const sums = curSums[f] as Float64Array;
        const counts = curCounts[f] as Float64Array;
        const size = nLeaves * nb;
        sums.fill(0, 0, size);
        counts.fill(0, 0, size);
        accumulate(sums, counts, leafOf, nb, bins.subarray(f * rows, (f + 1) * rows), grad, selected, n);
        if (d > 0) {
          // Left children (bit d−1 clear, leaf l < half) = parent l − right sibling l + half.
          const ps = prevSums[f] as Float64Array;
          const pc = prevCounts[f] as Float64Array;
          const offset = half * nb;
          for (let c = 0; c < offset; c++) {
            sums[c] = (ps[c] as number) - (sums[c + offset] as number);
            counts[c] = (pc[c] as number) - (counts[c + offset] as number);
          }
        }
        // Cumulative per leaf: cum[l*nb + k] = Σ bins ≤ k.
        for (let l = 0; l < nLeaves; l++) {
          let s = 0;
          let c = 0;
          for (let k = 0; k < nb; k++) {
            s += sums[l * nb + k] as number;
            c += counts[l * nb + k] as number;
            cumSums[l * nb + k] = s;
            cumCounts[l * nb + k] = c;
          }
        }
        for (let k = 0; k < nb - 1; k++) {
          let score = 0;
          for (let l = 0; l < nLeaves; l++) {
            const sl = cumSums[l * nb + k] as number;
            const nl = cumCounts[l * nb + k] as number;
            const st = cumSums[l * nb + nb - 1] as number;
            const nt = cumCounts[l * nb + nb - 1] as number;
            score += (sl * sl) / (nl + l2) + ((st - sl) * (st - sl)) / (nt - nl + l2);
          }
          if (score > bestScore + 1e-12) {
            bestScore = score;
            bestF = f;
            bestK = k;
          }
        }
      }
      [prevSums, curSums] = [curSums, prevSums];
      [prevCounts, curCounts] = [curCounts, prevCounts];
      if (bestF < 0) {
        // No feature can split (all constant): a split every row fails keeps the tree well formed (no row moves right).
        splits.push({ feature: 0, border: Math.fround(3.0e38) });
        continue;
      }
      splits.push({ feature: bestF, border: (borders[bestF] as number[])[bestK] as number });
      const base = bestF * rows;
      for (let i = 0; i < rows; i++) if ((bins[base + i] as number) > bestK) leafOf[i] = (leafOf[i] as number) | (1 << d);
    }

    const leaves = new Float64Array(maxLeaves);
    if (alpha === null) {
      const s = new Float64Array(maxLeaves);
      const n = new Float64Array(maxLeaves);
      for (let i = 0; i < rows; i++) {
        const l = leafOf[i] as number;
        s[l] = (s[l] as number) + (grad[i] as number);
        n[l] = (n[l] as number) + 1;
      }
      for (let l = 0; l < maxLeaves; l++) leaves[l] = (opts.learningRate * (s[l] as number)) / ((n[l] as number) + l2);
    } else {
      const residuals: number[][] = Array.from({ length: maxLeaves }, () => []);
      for (let i = 0; i < rows; i++) (residuals[leafOf[i] as number] as number[]).push((y[i] as number) - (pred[i] as number));
      for (let l = 0; l < maxLeaves; l++) leaves[l] = opts.learningRate * quantileOf(residuals[l] as number[], alpha);
    }
    for (let i = 0; i < rows; i++) pred[i] = (pred[i] as number) + (leaves[leafOf[i] as number] as number);
    trees.push({ splits, leaves });
  }
  return { model: { featureNames: [...featureNames], trees, bias }, trainPredictions: pred };
}
