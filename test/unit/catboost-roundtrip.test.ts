import { describe, expect, it } from 'vitest';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime.js';
import { evaluate, evaluateBatch } from '../../shared/catboost/evaluator.js';
import type { NanMode, ObliviousEnsemble, ObliviousTree } from '../../shared/catboost/oblivious-ensemble.js';
import { readOnnxMetadata, writeOnnx } from '../../shared/catboost/onnx-writer.js';
import { Rng } from '../../bin/demo/random.js';

/** Seeded randomness (the demo world's PRNG) so failures reproduce. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

const NAMES = ['points_avg', 'minutes', 'line_nan_true', 'pace_nan_false', 'unused'];
const MODES: NanMode[] = ['AsIs', 'AsIs', 'AsTrue', 'AsFalse', 'AsIs'];

function randomEnsemble(seed: number): ObliviousEnsemble {
  const rnd = prng(seed);
  const trees: ObliviousTree[] = [];
  for (let t = 0; t < 40; t++) {
    const depth = t === 0 ? 0 : 1 + Math.floor(rnd() * 6);
    const splits = Array.from({ length: depth }, () => ({
      feature: Math.floor(rnd() * 4), // feature 4 is never split on but stays a positional input
      border: Math.fround(rnd() * 4 - 2),
    }));
    const leaves = Float64Array.from({ length: 1 << depth }, () => rnd() * 2 - 1);
    trees.push({ splits, leaves });
  }
  return { featureNames: NAMES, nanModes: MODES, trees, bias: 3.25 };
}

/** Rows mixing random values, NaNs and values exactly on a border of the model. */
function rowsFor(model: ObliviousEnsemble, n: number, seed: number): Float32Array {
  const rnd = prng(seed);
  const borders = model.trees.flatMap((t) => t.splits);
  const width = model.featureNames.length;
  const out = new Float32Array(n * width);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < width; f++) {
      const u = rnd();
      let v = rnd() * 5 - 2.5;
      if (u < 0.15) v = Number.NaN;
      else if (u < 0.4) v = borders.filter((s) => s.feature === f)[Math.floor(rnd() * 8)]?.border ?? v;
      out[r * width + f] = v;
    }
  }
  return out;
}

describe('CatBoost ONNX round trip (synthetic ensemble)', () => {
  const runtime = new OnnxModelRuntime({ intraOpNumThreads: 1 });

  it('ORT on the written model agrees with the evaluator within 1e-5, incl. NaN AsTrue', async () => {
    const model = randomEnsemble(7);
    const session = await runtime.load(writeOnnx(model, {}));
    try {
      const n = 2000;
      const rows = rowsFor(model, n, 11);
      const expected = evaluateBatch(model, rows, n);
      const actual = await session.run(rows, n);
      expect(actual.length).toBe(n);
      let maxDiff = 0;
      for (let i = 0; i < n; i++) maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
      console.log(`[catboost-roundtrip] max |ORT − evaluator| over ${n} rows: ${maxDiff.toExponential(2)}`);
      expect(maxDiff).toBeLessThan(1e-5);
      // The NaN cells must matter: AsTrue NaN differs from AsIs NaN for some rows.
      const asIs = { ...model, nanModes: undefined };
      const differs = Array.from(expected).some((v, i) => Math.abs(v - evaluate(asIs, rows.subarray(i * 5, i * 5 + 5))) > 1e-3);
      expect(differs).toBe(true);
    } finally {
      await session.close();
    }
  });

  it('first split is the least significant bit, the root tests the last split, x == border goes false', async () => {
    const model: ObliviousEnsemble = {
      featureNames: ['a', 'b', 'c'],
      nanModes: ['AsIs', 'AsIs', 'AsTrue'],
      trees: [
        {
          splits: [
            { feature: 0, border: 0.5 },
            { feature: 1, border: 0.5 },
            { feature: 2, border: 0.5 },
          ],
          leaves: Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7]),
        },
      ],
      bias: 0,
    };
    const rows = Float32Array.from([
      1,
      0,
      0, // leaf 1
      0,
      1,
      0, // leaf 2
      0,
      0,
      1, // leaf 4
      1,
      1,
      0, // leaf 3
      0.5,
      0.5,
      0.5, // on the borders: leaf 0
      Math.fround(0.5 + 2 ** -24),
      0,
      0, // one ulp above: leaf 1
      Number.NaN,
      0,
      Number.NaN, // AsIs NaN false, AsTrue NaN true: leaf 4
    ]);
    const expected = [1, 2, 4, 3, 0, 1, 4];
    expect(Array.from(evaluateBatch(model, rows, 7))).toEqual(expected);
    const session = await runtime.load(writeOnnx(model, {}));
    try {
      expect(Array.from(await session.run(rows, 7))).toEqual(expected);
    } finally {
      await session.close();
    }
  });

  it('metadata round-trips: feature_names plus every given entry, readable from bytes and from the session', async () => {
    const model = randomEnsemble(3);
    const bytes = writeOnnx(model, { family: 'v12_noveg', source_sha256: 'abc', note: 'ünïcode ✓' });
    const meta = readOnnxMetadata(bytes);
    expect(meta).toEqual({ feature_names: JSON.stringify(NAMES), family: 'v12_noveg', source_sha256: 'abc', note: 'ünïcode ✓' });
    const session = await runtime.load(bytes);
    try {
      expect(session.featureNames).toEqual(NAMES);
      expect(session.inputWidth).toBe(NAMES.length);
      expect(session.metadata['family']).toBe('v12_noveg');
      await expect(session.run(new Float32Array(NAMES.length + 1), 1)).rejects.toThrow(/expected 5 \(input width 5\)/);
      expect((await session.run(new Float32Array(0), 0)).length).toBe(0);
    } finally {
      await session.close();
    }
  });

  it('refuses inconsistent models with clear errors', () => {
    const model = randomEnsemble(5);
    const tree = model.trees[1]!;
    expect(() =>
      writeOnnx({ ...model, trees: [{ ...tree, splits: [{ feature: 0, border: 0.1 }], leaves: new Float64Array(2) }] }, {}),
    ).toThrow(/not a float32/);
    expect(() => writeOnnx({ ...model, trees: [{ splits: [{ feature: 9, border: 0 }], leaves: new Float64Array(2) }] }, {})).toThrow(
      /feature 9/,
    );
    expect(() => writeOnnx({ ...model, trees: [{ splits: [], leaves: new Float64Array(2) }] }, {})).toThrow(/2 leaves/);
    expect(() => writeOnnx(model, { feature_names: '["x"]' })).toThrow(/feature_names/);
    expect(() => evaluate(model, [1, 2])).toThrow(/2 values/);
    expect(() => readOnnxMetadata(Uint8Array.from([0x72, 0x10, 0x01]))).toThrow(/not a valid ONNX/);
  });
});
