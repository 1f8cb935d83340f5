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

  it('is deterministic', () => {
    const opts = { trees: 10, depth: 3, learningRate: 0.3, loss: 'rmse' } as const;
    expect(trainObliviousBoosting(train, opts)).toEqual(trainObliviousBoosting(train, opts));
  });
});
