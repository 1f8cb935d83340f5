/**
 * An ensemble of oblivious (symmetric) trees, as CatBoost stores it: the in-memory model shared by the `.cbm` reader, the
 * demo trainer, the plain evaluator and the ONNX writer.
 *
 * Evaluation (CatBoost's CPU applier): for each tree of depth d, bit j of the leaf index is `fround(x[feature_j]) > border_j`
 * (strict, float32), with the FIRST split as the least significant bit; the prediction is bias + Σ leaf values (in double, in
 * tree order). NaN follows the feature's `nanMode`: 'AsIs' (every comparison false), 'AsFalse' (−inf), 'AsTrue' (+inf).
 */
export type NanMode = 'AsIs' | 'AsFalse' | 'AsTrue';

export interface ObliviousSplit {
  /** Input column (flat index) the split reads. */
  feature: number;
  /** float32 border: the value is already representable as a float32 (use Math.fround when building). */
  border: number;
}

export interface ObliviousTree {
  /** splits[0] is the least significant bit of the leaf index. */
  splits: ObliviousSplit[];
  /** 2^depth leaf values, indexed by leaf index. */
  leaves: Float64Array;
}

export interface ObliviousEnsemble {
  /** Input feature names, in input order; its length is the model's input width. */
  featureNames: string[];
  /** Per input column; absent means 'AsIs'. */
  nanModes?: NanMode[];
  trees: ObliviousTree[];
  bias: number;
}
