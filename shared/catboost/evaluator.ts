/**
 * Plain TypeScript evaluator for an ObliviousEnsemble, following CatBoost's CPU applier bit for bit:
 * inputs are cast to float32 (Math.fround), bit j of a tree's leaf index is `x > border_j` (strict) with the first split as
 * the least significant bit, NaN follows the feature's nan mode (AsIs/AsFalse: false, AsTrue: true), leaf values are summed
 * in double in tree order, then the bias is added.
 */
import type { ObliviousEnsemble } from './oblivious-ensemble.js';

/** Per-feature flag: does NaN go to the "true" (greater) side? */
function nanTrueFlags(model: ObliviousEnsemble): Uint8Array {
  const width = model.featureNames.length;
  const flags = new Uint8Array(width);
  const modes = model.nanModes;
  if (modes) for (let f = 0; f < width; f++) flags[f] = modes[f] === 'AsTrue' ? 1 : 0;
  return flags;
}

function scoreRow(model: ObliviousEnsemble, nanTrue: Uint8Array, row: ArrayLike<number>, offset: number): number {
  let sum = 0;
  for (const tree of model.trees) {
    const splits = tree.splits;
    let idx = 0;
    for (let j = 0; j < splits.length; j++) {
      const s = splits[j]!;
      const x = Math.fround(row[offset + s.feature]!);
      const bit = x !== x ? nanTrue[s.feature] === 1 : x > s.border;
      if (bit) idx |= 1 << j;
    }
    sum += tree.leaves[idx]!;
  }
  return sum + model.bias;
}

/** Scores one row (length = model.featureNames.length). */
export function evaluate(model: ObliviousEnsemble, row: ArrayLike<number>): number {
  const width = model.featureNames.length;
  if (row.length !== width) throw new Error(`evaluate: row has ${row.length} values, the model expects ${width}`);
  return scoreRow(model, nanTrueFlags(model), row, 0);
}

/** Scores `nRows` rows laid out row-major in `rows` (length nRows × width). */
export function evaluateBatch(model: ObliviousEnsemble, rows: Float32Array | Float64Array, nRows: number): Float64Array {
  const width = model.featureNames.length;
  if (!Number.isInteger(nRows) || nRows < 0) throw new Error(`evaluateBatch: nRows must be a non-negative integer, got ${nRows}`);
  if (rows.length !== nRows * width) {
    throw new Error(`evaluateBatch: ${rows.length} values for ${nRows} rows, expected ${nRows * width} (width ${width})`);
  }
  const nanTrue = nanTrueFlags(model);
  const out = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) out[r] = scoreRow(model, nanTrue, rows, r * width);
  return out;
}
