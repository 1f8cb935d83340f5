/**
 * Real NBA models (CatBoost 1.2.8, 33 features) from ../shared/fixtures/catboost/nba: there is no per-row oracle, so the
 * check is ORT on the converted model vs the plain evaluator on rows around the metadata medians, rows with cells exactly on
 * borders and one float32 ulp either side, and rows with NaN cells; plus plausibility of the prediction at the medians.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CATBOOST_NBA } from '../helpers/fixtures.js';
import { describe, expect, it } from 'vitest';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime.js';
import { convertCbmToOnnx, sha256Hex } from '../../shared/catboost/convert.js';
import { evaluate, evaluateBatch } from '../../shared/catboost/evaluator.js';
import type { ObliviousEnsemble } from '../../shared/catboost/oblivious-ensemble.js';
import { readOnnxMetadata } from '../../shared/catboost/onnx-writer.js';
import { Rng } from '../../bin/demo/random.js';

const NBA_DIR = CATBOOST_NBA;
const present = existsSync(NBA_DIR); // absent: skipped, and the run says so once (test/helpers/fixtures.ts)

const BINARY = new Set(['home_away', 'back_to_back', 'playoff_game', 'has_vegas_line']);

interface NbaMetadata {
  features: string[];
  feature_medians: Record<string, number>;
}

/** Seeded randomness (the demo world's PRNG) so failures reproduce. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

function gaussian(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/** The neighbouring float32 of a float32 value (dir +1 up, −1 down). */
function f32Step(x: number, dir: 1 | -1): number {
  const f = new Float32Array([x]);
  const i = new Int32Array(f.buffer);
  if (x === 0) return dir * 2 ** -149;
  i[0] = i[0]! + (x > 0 ? dir : -dir);
  return f[0]!;
}

function medianRow(meta: NbaMetadata): number[] {
  return meta.features.map((name) => {
    const m = meta.feature_medians[name];
    if (m === undefined) throw new Error(`metadata has no median for ${name}`);
    return m;
  });
}

function aroundMedians(meta: NbaMetadata, n: number, rnd: () => number): Float32Array {
  const med = medianRow(meta);
  const out = new Float32Array(n * med.length);
  for (let r = 0; r < n; r++) {
    med.forEach((m, f) => {
      out[r * med.length + f] = BINARY.has(meta.features[f]!) ? (rnd() < 0.5 ? 0 : 1) : m + gaussian(rnd) * Math.max(Math.abs(m) * 0.3, 1);
    });
  }
  return out;
}

function onBorders(model: ObliviousEnsemble, base: Float32Array, rnd: () => number): Float32Array {
  const width = model.featureNames.length;
  const borders: number[][] = Array.from({ length: width }, () => []);
  for (const t of model.trees) for (const s of t.splits) borders[s.feature]!.push(s.border);
  const out = Float32Array.from(base);
  for (let i = 0; i < out.length; i++) {
    const list = borders[i % width]!;
    if (list.length === 0 || rnd() >= 0.6) continue;
    const b = list[Math.floor(rnd() * list.length)]!;
    const k = rnd();
    out[i] = k < 0.4 ? b : k < 0.7 ? f32Step(b, 1) : f32Step(b, -1);
  }
  return out;
}

function withNans(base: Float32Array, rnd: () => number): Float32Array {
  const out = Float32Array.from(base);
  for (let i = 0; i < out.length; i++) if (rnd() < 0.15) out[i] = Number.NaN;
  return out;
}

const models = present
  ? readdirSync(NBA_DIR)
      .filter((f) => f.endsWith('.cbm') && existsSync(path.join(NBA_DIR, f.replace(/\.cbm$/, '_metadata.json'))))
      .sort()
  : [];

describe.skipIf(!present)('real NBA CatBoost models', () => {
  const runtime = new OnnxModelRuntime({ intraOpNumThreads: 1 });

  it('fixtures are present', () => expect(models.length).toBeGreaterThan(0));

  it.each(models)('%s: ORT agrees with the evaluator within 1e-4; median prediction plausible', async (file) => {
    const cbm = readFileSync(path.join(NBA_DIR, file));
    const meta = JSON.parse(readFileSync(path.join(NBA_DIR, file.replace(/\.cbm$/, '_metadata.json')), 'utf8')) as NbaMetadata;
    const { onnx, model, info } = convertCbmToOnnx(cbm, { featureNames: meta.features, metadata: { family: 'v9' } });
    expect(info.features).toBe(33);
    expect(info.hasFeatureIds).toBe(true);
    const stored = readOnnxMetadata(onnx);
    expect(JSON.parse(stored['feature_names']!)).toEqual(meta.features);
    expect(stored).toMatchObject({ family: 'v9', source_sha256: sha256Hex(cbm), trees: String(info.trees), depth: String(info.depth) });

    const rnd = prng(20260129);
    const base = aroundMedians(meta, 4000, rnd);
    const sets: Record<string, Float32Array> = { medians: base, borders: onBorders(model, base, rnd), nans: withNans(base, rnd) };
    const session = await runtime.load(onnx);
    try {
      expect(session.featureNames).toEqual(meta.features);
      const med = Float32Array.from(medianRow(meta));
      const atMedian = evaluate(model, med);
      const ortMedian = (await session.run(med, 1))[0]!;
      const report: string[] = [];
      let worst = 0;
      for (const [name, rows] of Object.entries(sets)) {
        const n = rows.length / 33;
        const want = evaluateBatch(model, rows, n);
        const got = await session.run(rows, n);
        let maxDiff = 0;
        for (let i = 0; i < n; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
        worst = Math.max(worst, maxDiff);
        report.push(`${name} ${maxDiff.toExponential(2)}`);
      }
      console.log(
        `[catboost-nba] ${file}: trees ${info.trees}, bias ${info.bias.toFixed(4)}, at medians evaluator ${atMedian.toFixed(4)} / ORT ${ortMedian.toFixed(4)}; max |ORT − evaluator| ${report.join(', ')}`,
      );
      expect(worst).toBeLessThan(1e-4);
      expect(Math.abs(ortMedian - atMedian)).toBeLessThan(1e-4);
      expect(atMedian).toBeGreaterThan(1);
      expect(atMedian).toBeLessThan(40);
    } finally {
      await session.close();
    }
  });

  it('rejects a feature list that does not match the model, naming the first differing position', () => {
    const file = models[0]!;
    const cbm = readFileSync(path.join(NBA_DIR, file));
    const meta = JSON.parse(readFileSync(path.join(NBA_DIR, file.replace(/\.cbm$/, '_metadata.json')), 'utf8')) as NbaMetadata;
    const swapped = [...meta.features];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(() => convertCbmToOnnx(cbm, { featureNames: swapped })).toThrow(/position 3/);
    expect(() => convertCbmToOnnx(cbm, { featureNames: meta.features.slice(1) })).toThrow(/32 given/);
  });
});
