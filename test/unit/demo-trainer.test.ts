import { describe, expect, it } from 'vitest';
import { evaluate, evaluateBatch } from '../../shared/catboost/evaluator.js';
import { Rng } from '../../bin/demo/random.js';
import { fitObliviousBoosting, quantileBorders, trainObliviousBoosting, type TrainingData } from '../../bin/demo/trainer.js';

/** y = 3·x0 + 5·sin(2·x1) + 4·[x2 > 0.5] + noise; x3 is pure noise; x1 is missing (NaN) 10 % of the time. */
function synthetic(rows: number, seed: number): TrainingData {
  const rng = Rng.of(seed, 'trainer-test');
  const width = 4;
  const x = new Float32Array(rows * width);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = [rng.uniform(0, 4), rng.uniform(-2, 2), rng.next(), rng.normal()];
    const missing = rng.chance(0.1);
    x.set([v[0]!, missing ? Number.NaN : v[1]!, v[2]!, v[3]!], i * width);
    y[i] = 3 * v[0]! + (missing ? 0 : 5 * Math.sin(2 * v[1]!)) + (v[2]! > 0.5 ? 4 : 0) + rng.normal(0, 1);
  }
  return { x, y, rows, featureNames: ['a', 'b', 'c', 'noise'] };
}

const mse = (pred: ArrayLike<number>, y: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (pred[i]! - y[i]!) ** 2;
  return s / y.length;
};

/**
 * The trainer's algorithm written plainly (module docs of bin/demo/trainer.ts): per level and feature, a histogram over
 * (leaf, bin) of the rows that went right, added in row order, each left child its parent minus its right sibling; the
 * scores summed over leaves in leaf order. The trainer's faster layout must give the very same model, to the last bit.
 */
function plainBoosting(data: TrainingData, opts: { trees: number; depth: number; learningRate: number; alpha: number | null }) {
  const { rows, y, x } = data;
  const width = data.featureNames.length;
  const l2 = 3;
  const borders: number[][] = [];
  const bins: number[][] = [];
  for (let f = 0; f < width; f++) {
    const column = Float32Array.from({ length: rows }, (_, i) => x[i * width + f]!);
    const b = quantileBorders(column, 64);
    borders.push(b);
    bins.push(Array.from(column, (v) => (Number.isNaN(v) ? 0 : b.filter((border) => v > border).length)));
  }
  const quantile = (values: number[], alpha: number): number => {
    if (values.length === 0) return 0;
    const v = [...values].sort((p, q) => p - q);
    const pos = alpha * (v.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(v.length - 1, lo + 1);
    return v[lo]! + (pos - lo) * (v[hi]! - v[lo]!);
  };
  const bias = opts.alpha === null ? y.reduce((a, v) => a + v, 0) / rows : quantile(Array.from(y), opts.alpha);
  const pred = new Array<number>(rows).fill(bias);
  const trees: { splits: { feature: number; border: number }[]; leaves: number[] }[] = [];
  for (let t = 0; t < opts.trees; t++) {
    const grad = pred.map((p, i) => (opts.alpha === null ? y[i]! - p : y[i]! - p > 0 ? opts.alpha : opts.alpha - 1));
    const leafOf = new Array<number>(rows).fill(0);
    const splits: { feature: number; border: number }[] = [];
    let parent: { s: number[][]; n: number[][] }[] = [];
    for (let d = 0; d < opts.depth; d++) {
      const nLeaves = 1 << d;
      const half = nLeaves >> 1;
      let best = { score: -Infinity, f: -1, k: -1 };
      const level: { s: number[][]; n: number[][] }[] = [];
      for (let f = 0; f < width; f++) {
        const nb = borders[f]!.length + 1;
        const s = Array.from({ length: nLeaves }, () => new Array<number>(nb).fill(0));
        const n = Array.from({ length: nLeaves }, () => new Array<number>(nb).fill(0));
        for (let i = 0; i < rows; i++) {
          if (d > 0 && (leafOf[i]! & half) === 0) continue;
          const [leaf, bin] = [s[leafOf[i]!]!, bins[f]![i]!];
          leaf[bin] = leaf[bin]! + grad[i]!;
          n[leafOf[i]!]![bin] = n[leafOf[i]!]![bin]! + 1;
        }
        for (let l = 0; l < half; l++)
          for (let k = 0; k < nb; k++) {
            s[l]![k] = parent[f]!.s[l]![k]! - s[l + half]![k]!;
            n[l]![k] = parent[f]!.n[l]![k]! - n[l + half]![k]!;
          }
        level.push({ s, n });
        if (nb < 2) continue;
        // Per leaf, the running sums over its bins in bin order: left of border k = through bin k, total = through the last.
        const prefix = (v: number[]): number[] =>
          v.map(
            (
              (acc) => (u: number) =>
                (acc += u)
            )(0),
          );
        const cs = s.map(prefix);
        const cn = n.map(prefix);
        for (let k = 0; k < nb - 1; k++) {
          let score = 0;
          for (let l = 0; l < nLeaves; l++) {
            const [sl, nl, st, nt] = [cs[l]![k]!, cn[l]![k]!, cs[l]![nb - 1]!, cn[l]![nb - 1]!];
            score += (sl * sl) / (nl + l2) + ((st - sl) * (st - sl)) / (nt - nl + l2);
          }
          if (score > best.score + 1e-12) best = { score, f, k };
        }
      }
      parent = level;
      if (best.f < 0) {
        splits.push({ feature: 0, border: Math.fround(3.0e38) });
        continue;
      }
      splits.push({ feature: best.f, border: borders[best.f]![best.k]! });
      for (let i = 0; i < rows; i++) if (bins[best.f]![i]! > best.k) leafOf[i]! |= 1 << d;
    }
    const leaves = Array.from({ length: 1 << opts.depth }, (_, l) => {
      const members = leafOf.flatMap((leaf, i) => (leaf === l ? [i] : []));
      if (opts.alpha !== null)
        return (
          opts.learningRate *
          quantile(
            members.map((i) => y[i]! - pred[i]!),
            opts.alpha,
          )
        );
      return (opts.learningRate * members.reduce((a, i) => a + grad[i]!, 0)) / (members.length + l2);
    });
    for (let i = 0; i < rows; i++) pred[i]! += leaves[leafOf[i]!]!;
    trees.push({ splits, leaves });
  }
  return { bias, trees };
}

describe('demo trainer (oblivious boosting)', () => {
  const train = synthetic(4000, 1);
  const test = synthetic(2000, 2);

  it('beats the mean predictor on a synthetic function', () => {
    const model = trainObliviousBoosting(train, { trees: 80, depth: 4, learningRate: 0.2, loss: 'rmse' });
    const mean = train.y.reduce((a, b) => a + b, 0) / train.rows;
    const baseline = mse(new Float64Array(test.rows).fill(mean), test.y);
    const pred = evaluateBatch(model, test.x, test.rows);
    expect(mse(pred, test.y)).toBeLessThan(0.25 * baseline);
    expect(model.trees).toHaveLength(80);
    expect(model.trees[0]!.leaves).toHaveLength(16);
    for (const tree of model.trees) for (const s of tree.splits) expect(Math.fround(s.border)).toBe(s.border);
  });

  it('is reproduced exactly by the evaluator, NaN included', () => {
    const { model, trainPredictions } = fitObliviousBoosting(train, { trees: 30, depth: 5, learningRate: 0.3, loss: 'rmse' });
    for (let i = 0; i < train.rows; i += 7) {
      const row = train.x.subarray(i * 4, i * 4 + 4);
      expect(evaluate(model, row)).toBeCloseTo(trainPredictions[i]!, 9);
    }
  });

  it('a quantile-0.43 model predicts below the rmse model on average', () => {
    const opts = { trees: 60, depth: 4, learningRate: 0.2 } as const;
    const rmse = trainObliviousBoosting(train, { ...opts, loss: 'rmse' });
    const q43 = trainObliviousBoosting(train, { ...opts, loss: { quantile: 0.43 } });
    const a = evaluateBatch(rmse, test.x, test.rows);
    const b = evaluateBatch(q43, test.x, test.rows);
    const avg = (p: Float64Array): number => p.reduce((s, v) => s + v, 0) / p.length;
    expect(avg(b)).toBeLessThan(avg(a));
    let below = 0;
    for (let i = 0; i < test.rows; i++) if (test.y[i]! < b[i]!) below++;
    expect(below / test.rows).toBeGreaterThan(0.36);
    expect(below / test.rows).toBeLessThan(0.5);
  });

  it('builds float32 quantile borders below the maximum and ignores NaN', () => {
    const b = quantileBorders(Float32Array.from([Number.NaN, 1, 2, 3, 4, 5, 6, 7, 8]), 3);
    expect(b.length).toBeGreaterThan(0);
    expect(Math.max(...b)).toBeLessThan(8);
    expect(b).toEqual([...b].sort((p, q) => p - q));
  });

  it.each([
    { loss: 'rmse', alpha: null },
    { loss: { quantile: 0.43 }, alpha: 0.43 },
  ] as const)('gives exactly the plainly computed model ($loss), NaN and a constant column included', ({ loss, alpha }) => {
    const base = synthetic(600, 3);
    // A constant fifth column: never splittable, so it has no histogram.
    const x = new Float32Array(base.rows * 5);
    for (let i = 0; i < base.rows; i++) x.set([...base.x.subarray(i * 4, i * 4 + 4), 7], i * 5);
    const data: TrainingData = { ...base, x, featureNames: [...base.featureNames, 'constant'] };
    const opts = { trees: 8, depth: 5, learningRate: 0.3 };
    const model = trainObliviousBoosting(data, { ...opts, loss });
    const plain = plainBoosting(data, { ...opts, alpha });
    expect(model.bias).toBe(plain.bias);
    expect(model.trees.map((t) => ({ splits: t.splits, leaves: Array.from(t.leaves) }))).toEqual(plain.trees);
  });

  it('gives the plainly computed model when no feature can split', () => {
    const data: TrainingData = {
      x: new Float32Array(40).fill(2),
      y: Float64Array.from({ length: 20 }, (_, i) => i % 7),
      rows: 20,
      featureNames: ['a', 'b'],
    };
    const model = trainObliviousBoosting(data, { trees: 3, depth: 2, learningRate: 0.5, loss: 'rmse' });
    const plain = plainBoosting(data, { trees: 3, depth: 2, learningRate: 0.5, alpha: null });
    expect(model.trees.map((t) => ({ splits: t.splits, leaves: Array.from(t.leaves) }))).toEqual(plain.trees);
  });

  it('is deterministic', () => {
    const opts = { trees: 10, depth: 3, learningRate: 0.3, loss: 'rmse' } as const;
    expect(trainObliviousBoosting(train, opts)).toEqual(trainObliviousBoosting(train, opts));
  });
});
