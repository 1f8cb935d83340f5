/**
 * A small, honest trainer of oblivious-tree gradient boosting (CatBoost's model shape), for the demo models.
 *
 * - Borders: per feature, up to `borderCount` quantiles of the non-NaN values, as float32 (Math.fround), strictly below the
 *   feature's maximum. Values are binned once: bin = the number of borders the value is strictly greater than, so
 *   `bin > k` ⇔ `x > border_k`, exactly the evaluator's test. NaN lands in bin 0: below every border (CatBoost AsIs/Min).
 * - Trees: level-wise and symmetric. At each level every (feature, border) is scored on the current negative gradients with
 *   histograms over (leaf, bin): score = Σ over leaves and sides of S² / (n + λ); the best split is taken for every leaf.
 *   Below the first level only the rows that went right are histogrammed; a left child is its parent minus its sibling.
 * - Layout (speed only): the rows are kept grouped by leaf, each leaf's rows in row order, and one pass over a row adds its
 *   gradient to every feature's histogram. Each histogram cell still receives its rows in row order, so every sum — and the
 *   model — is the same to the bit as a plain per-feature pass over the rows (test/unit/demo-trainer.test.ts).
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

/**
 * The column's values without its NaNs, in ascending numeric order (−0 before +0), as a typed-array sort orders them: an
 * LSD radix sort (three passes) of the float32 bit patterns mapped to keys that order as the numbers do — linear, where
 * the comparison sort was most of a 5-tree model's training time.
 */
function sortedNonNaN(values: Float32Array): Float32Array {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  let keys = new Uint32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (v !== v) continue;
    const b = bits[i] as number;
    // Negative: every bit flipped (a larger magnitude is a smaller key); otherwise the sign bit set.
    keys[m++] = b >= 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
  }
  keys = keys.subarray(0, m);
  let spare = new Uint32Array(m);
  const count = new Int32Array(2048);
  for (const shift of [0, 11, 22]) {
    count.fill(0);
    for (let i = 0; i < m; i++) {
      const d = ((keys[i] as number) >>> shift) & 2047;
      count[d] = (count[d] as number) + 1;
    }
    let total = 0;
    for (let d = 0; d < 2048; d++) {
      const c = count[d] as number;
      count[d] = total;
      total += c;
    }
    for (let i = 0; i < m; i++) {
      const k = keys[i] as number;
      const d = (k >>> shift) & 2047;
      const at = count[d] as number;
      count[d] = at + 1;
      spare[at] = k;
    }
    [keys, spare] = [spare, keys];
  }
  const out = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    const k = keys[i] as number;
    out[i] = k >= 0x80000000 ? k & 0x7fffffff : ~k >>> 0;
  }
  return new Float32Array(out.buffer);
}

/** float32 quantile borders of one column, ascending, each strictly below the column's maximum. */
export function quantileBorders(values: Float32Array, borderCount: number): number[] {
  const finite = sortedNonNaN(values);
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

/**
 * The k-th smallest of values (0-based), moving it to values[k] with every smaller value before it and every larger one
 * after it (Hoare's selection, median-of-three pivots): linear on average, where a sort is n·log n.
 */
function select(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (hi > lo) {
    const a = values[lo] as number;
    const b = values[(lo + hi) >> 1] as number;
    const c = values[hi] as number;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        const t = values[i] as number;
        values[i++] = values[j] as number;
        values[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break; // values[j + 1 … i − 1] all equal the pivot
  }
  return values[k] as number;
}

/**
 * The α-quantile (linear interpolation between the order statistics around α·(n − 1)) of `values`, which it reorders. The
 * two order statistics are selected rather than sorted for — the same two values, so the same quantile. A NaN or a −0
 * (which a numeric sort orders and a comparison does not) sends it to the sort.
 */
function quantileOf(values: Float64Array, alpha: number): number {
  if (values.length === 0) return 0;
  const pos = alpha * (values.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(values.length - 1, lo + 1);
  let plain = true;
  for (let i = 0; i < values.length && plain; i++) {
    const v = values[i] as number;
    if (v !== v || Object.is(v, -0)) plain = false;
  }
  let vlo: number;
  let vhi: number;
  if (plain) {
    vlo = select(values, lo);
    vhi = vlo;
    if (hi > lo) {
      vhi = values[hi] as number;
      for (let i = hi + 1; i < values.length; i++) if ((values[i] as number) < vhi) vhi = values[i] as number;
    }
  } else {
    values.sort();
    vlo = values[lo] as number;
    vhi = values[hi] as number;
  }
  return vlo + (pos - lo) * (vhi - vlo);
}

/**
 * The binned matrix. Every splittable feature (one border or more) owns a run of its bins in a leaf's histogram block of
 * `stride` cells; `cells` holds, row-major, each row's cell in that block for each splittable feature, so one pass over a
 * row fills every feature's histogram.
 */
interface Binned {
  borders: number[][];
  /** Column-major bins: feature f of row i at f·rows + i. */
  bins: Uint8Array;
  /** The splittable features, ascending, with where their bins start in a block and how many there are. */
  features: Int32Array;
  offsets: Int32Array;
  binCounts: Int32Array;
  stride: number;
  /** Row i, splittable feature a: offsets[a] + its bin, at i·features.length + a. */
  cells: Uint16Array;
}

function binMatrix(x: Float32Array, rows: number, width: number, borderCount: number): Binned {
  const borders: number[][] = [];
  const bins = new Uint8Array(rows * width);
  // Column-major once (one sequential pass), rather than one strided pass over the whole matrix per feature.
  const byColumn = new Float32Array(rows * width);
  for (let i = 0; i < rows; i++) for (let f = 0; f < width; f++) byColumn[f * rows + i] = x[i * width + f] as number;
  for (let f = 0; f < width; f++) {
    const column = byColumn.subarray(f * rows, (f + 1) * rows);
    const b = quantileBorders(column, borderCount);
    borders.push(b);
    for (let i = 0; i < rows; i++) bins[f * rows + i] = binOf(b, column[i] as number);
  }
  const splittable = borders.flatMap((b, f) => (b.length > 0 ? [f] : []));
  const features = Int32Array.from(splittable);
  const binCounts = Int32Array.from(splittable, (f) => (borders[f] as number[]).length + 1);
  const offsets = new Int32Array(features.length);
  let stride = 0;
  for (let a = 0; a < features.length; a++) {
    offsets[a] = stride;
    stride += binCounts[a] as number;
  }
  const na = features.length;
  const cells = new Uint16Array(rows * na);
  for (let a = 0; a < na; a++) {
    const base = (features[a] as number) * rows;
    const offset = offsets[a] as number;
    for (let i = 0; i < rows; i++) cells[i * na + a] = offset + (bins[base + i] as number);
  }
  return { borders, bins, features, offsets, binCounts, stride, cells };
}

/**
 * Adds the gradient (and a count) of each row of order[start, end) — one leaf's rows, in row order — to its cell of every
 * splittable feature in the leaf's histogram block (which starts at `block`). Each cell receives its rows in row order, as
 * a per-feature pass over the rows in row order would add them: the sums are the same to the last bit.
 */
function accumulate(
  sums: Float64Array,
  counts: Int32Array,
  block: number,
  cells: Uint16Array,
  na: number,
  grad: Float64Array,
  order: Int32Array,
  start: number,
  end: number,
): void {
  for (let j = start; j < end; j++) {
    const i = order[j] as number;
    const g = grad[i] as number;
    const row = i * na;
    const last = row + na;
    let c = row;
    // Four features at a time: four independent read-modify-writes overlap (the cells of one row are distinct).
    for (; c + 3 < last; c += 4) {
      const i0 = block + (cells[c] as number);
      const i1 = block + (cells[c + 1] as number);
      const i2 = block + (cells[c + 2] as number);
      const i3 = block + (cells[c + 3] as number);
      sums[i0] = (sums[i0] as number) + g;
      sums[i1] = (sums[i1] as number) + g;
      sums[i2] = (sums[i2] as number) + g;
      sums[i3] = (sums[i3] as number) + g;
      counts[i0] = (counts[i0] as number) + 1;
      counts[i1] = (counts[i1] as number) + 1;
      counts[i2] = (counts[i2] as number) + 1;
      counts[i3] = (counts[i3] as number) + 1;
    }
    for (; c < last; c++) {
      const idx = block + (cells[c] as number);
      sums[idx] = (sums[idx] as number) + g;
      counts[idx] = (counts[idx] as number) + 1;
    }
  }
}

/** accumulate without the counts: the root's counts (every row) are the same for every tree and are computed once. */
function accumulateSums(sums: Float64Array, cells: Uint16Array, na: number, grad: Float64Array, rows: number): void {
  for (let i = 0; i < rows; i++) {
    const g = grad[i] as number;
    const row = i * na;
    const last = row + na;
    let c = row;
    for (; c + 3 < last; c += 4) {
      const i0 = cells[c] as number;
      const i1 = cells[c + 1] as number;
      const i2 = cells[c + 2] as number;
      const i3 = cells[c + 3] as number;
      sums[i0] = (sums[i0] as number) + g;
      sums[i1] = (sums[i1] as number) + g;
      sums[i2] = (sums[i2] as number) + g;
      sums[i3] = (sums[i3] as number) + g;
    }
    for (; c < last; c++) {
      const idx = cells[c] as number;
      sums[idx] = (sums[idx] as number) + g;
    }
  }
}

/**
 * The best (feature, border) over every leaf's histogram block: score = Σ over leaves (in leaf order) and sides of
 * S² / (n + λ), where a border's left side sums the bins up to it in bin order. `scores` is scratch (≥ 255 values).
 */
function bestSplit(
  b: Binned,
  sums: Float64Array,
  counts: Int32Array,
  nLeaves: number,
  l2: number,
  scores: Float64Array,
): { feature: number; bin: number } | null {
  let bestScore = -Infinity;
  let best: { feature: number; bin: number } | null = null;
  for (let a = 0; a < b.features.length; a++) {
    const nb = b.binCounts[a] as number;
    const offset = b.offsets[a] as number;
    scores.fill(0, 0, nb - 1);
    for (let l = 0; l < nLeaves; l++) {
      const cell = l * b.stride + offset;
      let st = 0;
      let nt = 0;
      for (let k = 0; k < nb; k++) {
        st += sums[cell + k] as number;
        nt += counts[cell + k] as number;
      }
      let sl = 0;
      let nl = 0;
      for (let k = 0; k < nb - 1; k++) {
        sl += sums[cell + k] as number;
        nl += counts[cell + k] as number;
        scores[k] = (scores[k] as number) + ((sl * sl) / (nl + l2) + ((st - sl) * (st - sl)) / (nt - nl + l2));
      }
    }
    for (let k = 0; k < nb - 1; k++) {
      if ((scores[k] as number) > bestScore + 1e-12) {
        bestScore = scores[k] as number;
        best = { feature: b.features[a] as number, bin: k };
      }
    }
  }
  return best;
}

/**
 * Splits every leaf's rows (order[start[l], start[l] + len[l]), in row order) by `bin > k` of one feature column: the rows
 * that stay keep leaf l (in row order, first), those that go right become leaf l + nLeaves (in row order, after them).
 */
function partition(
  order: Int32Array,
  spare: Int32Array,
  start: Int32Array,
  len: Int32Array,
  nLeaves: number,
  column: Uint8Array,
  k: number,
): void {
  for (let l = 0; l < nLeaves; l++) {
    const s = start[l] as number;
    const e = s + (len[l] as number);
    let left = s;
    let right = 0;
    for (let j = s; j < e; j++) {
      const i = order[j] as number;
      if ((column[i] as number) > k) spare[right++] = i;
      else order[left++] = i;
    }
    order.set(spare.subarray(0, right), left);
    len[l] = left - s;
    start[l + nLeaves] = left;
    len[l + nLeaves] = right;
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
// eslint-disable-next-line complexity -- the boosting loop (histograms per level, leaf values) is numerically tight; splitting it further moves its state into arguments
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

  const binned = binMatrix(x, rows, width, borderCount);
  const { borders, bins, cells, stride } = binned;
  const na = binned.features.length;

  const bias = alpha === null ? y.reduce((a, v) => a + v, 0) / rows : quantileOf(Float64Array.from(y), alpha);
  const pred = new Float64Array(rows).fill(bias);
  const grad = new Float64Array(rows);
  const trees: ObliviousTree[] = [];
  const maxLeaves = 1 << opts.depth;
  // Histograms, one block of `stride` cells per leaf: Σ gradient and row count per (feature, bin). A level histograms
  // only the rows that just went right (about half); a left child is its parent (the block it inherits) minus its right
  // sibling (LightGBM's subtraction trick), which roughly halves the work of every level but the first. The rows are kept
  // grouped by leaf (each leaf's rows in row order) so that a leaf's rows fill one block at a time.
  const sums = new Float64Array(maxLeaves * stride);
  const counts = new Int32Array(maxLeaves * stride);
  const scores = new Float64Array(256);
  const order = new Int32Array(rows);
  const spare = new Int32Array(rows);
  const start = new Int32Array(maxLeaves);
  const len = new Int32Array(maxLeaves);
  const residuals = new Float64Array(rows);
  const rootCounts = new Int32Array(stride);
  for (let c = 0; c < cells.length; c++) rootCounts[cells[c] as number] = (rootCounts[cells[c] as number] as number) + 1;

  for (let t = 0; t < opts.trees; t++) {
    for (let i = 0; i < rows; i++) {
      const r = (y[i] as number) - (pred[i] as number);
      grad[i] = alpha === null ? r : r > 0 ? alpha : alpha - 1;
    }
    for (let i = 0; i < rows; i++) order[i] = i;
    start[0] = 0;
    len[0] = rows;
    const splits: ObliviousSplit[] = [];
    for (let d = 0; d < opts.depth; d++) {
      const nLeaves = 1 << d;
      const half = nLeaves >> 1;
      // This level's new blocks: leaf 0 at the first level, the right children (leaves half … nLeaves − 1) below it.
      const first = d === 0 ? 0 : half;
      sums.fill(0, first * stride, nLeaves * stride);
      if (d === 0) {
        // The root holds every row in row order: its counts never change, its sums take one plain pass.
        counts.set(rootCounts);
        accumulateSums(sums, cells, na, grad, rows);
      } else {
        counts.fill(0, first * stride, nLeaves * stride);
        for (let l = first; l < nLeaves; l++) {
          const s = start[l] as number;
          accumulate(sums, counts, l * stride, cells, na, grad, order, s, s + (len[l] as number));
        }
      }
      // Left children (bit d−1 clear, leaf l < half) = parent l − right sibling l + half.
      const offset = half * stride;
      for (let c = 0; c < offset; c++) {
        sums[c] = (sums[c] as number) - (sums[c + offset] as number);
        counts[c] = (counts[c] as number) - (counts[c + offset] as number);
      }
      const best = bestSplit(binned, sums, counts, nLeaves, l2, scores);
      if (best === null) {
        // No feature can split (all constant): a split every row fails keeps the tree well formed (no row moves right).
        splits.push({ feature: 0, border: Math.fround(3.0e38) });
        len.fill(0, nLeaves, 2 * nLeaves);
        continue;
      }
      splits.push({ feature: best.feature, border: (borders[best.feature] as number[])[best.bin] as number });
      const column = bins.subarray(best.feature * rows, (best.feature + 1) * rows);
      partition(order, spare, start, len, nLeaves, column, best.bin);
    }

    // Leaf l's rows are order[start[l], start[l] + len[l]), in row order: the leaf sums add them as a pass over the rows would.
    const leaves = new Float64Array(maxLeaves);
    if (alpha === null) {
      for (let l = 0; l < maxLeaves; l++) {
        const s = start[l] as number;
        const n = len[l] as number;
        let sum = 0;
        for (let j = s; j < s + n; j++) sum += grad[order[j] as number] as number;
        leaves[l] = (opts.learningRate * sum) / (n + l2);
      }
    } else {
      for (let l = 0; l < maxLeaves; l++) {
        const s = start[l] as number;
        const n = len[l] as number;
        for (let j = 0; j < n; j++) {
          const i = order[s + j] as number;
          residuals[j] = (y[i] as number) - (pred[i] as number);
        }
        leaves[l] = opts.learningRate * quantileOf(residuals.subarray(0, n), alpha);
      }
    }
    for (let l = 0; l < maxLeaves; l++) {
      const v = leaves[l] as number;
      const s = start[l] as number;
      for (let j = s; j < s + (len[l] as number); j++) {
        const i = order[j] as number;
        pred[i] = (pred[i] as number) + v;
      }
    }
    trees.push({ splits, leaves });
  }
  return { model: { featureNames: [...featureNames], trees, bias }, trainPredictions: pred };
}
