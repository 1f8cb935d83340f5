/**
 * Oracle fixtures: .cbm files saved by CatBoost 1.2.10 with 20 sample rows and CatBoost's own RawFormulaVal predictions
 * (go-catboost testdata, commit dbdad27). The JSON stores full-precision doubles (Python repr), so the evaluator must match
 * exactly. Fixtures live outside the repo in ../shared/fixtures/catboost/oracle.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime.js';
import { convertCbmToOnnx } from '../../shared/catboost/convert.js';
import { readCbm } from '../../shared/catboost/cbm-reader.js';
import { evaluate } from '../../shared/catboost/evaluator.js';
import { CATBOOST_ORACLE } from '../helpers/fixtures.js';

const ORACLE_DIR = CATBOOST_ORACLE;
const present = existsSync(ORACLE_DIR); // absent: skipped, and the run says so once (test/helpers/fixtures.ts)

interface OracleJson {
  description: string;
  float_feature_count: number;
  cat_feature_count: number;
  output_dimension: number;
  samples: Array<{ floats: Array<number | null> }>;
  predictions: number[][];
}

interface Fixture {
  name: string;
  cbm: Uint8Array;
  json: OracleJson;
}

function loadFixtures(): Fixture[] {
  if (!present) return [];
  return readdirSync(ORACLE_DIR)
    .filter((f) => f.endsWith('.cbm') && existsSync(path.join(ORACLE_DIR, f.replace(/\.cbm$/, '.json'))))
    .sort()
    .map((f) => ({
      name: f.replace(/\.cbm$/, ''),
      cbm: readFileSync(path.join(ORACLE_DIR, f)),
      json: JSON.parse(readFileSync(path.join(ORACLE_DIR, f.replace(/\.cbm$/, '.json')), 'utf8')) as OracleJson,
    }));
}

/** Why a fixture must be refused, from its JSON description; undefined = supported. */
function expectedRefusal(j: OracleJson): RegExp | undefined {
  if (j.cat_feature_count > 0) return /categorical|one-hot|CTR/;
  if (j.output_dimension !== 1) return /approx dimension/;
  if (/non-symmetric|lossguide|depthwise/i.test(j.description)) return /non-symmetric/;
  return undefined;
}

const fixtures = loadFixtures();
const supported = fixtures.filter((f) => expectedRefusal(f.json) === undefined);
const unsupported = fixtures.filter((f) => expectedRefusal(f.json) !== undefined);
const row = (s: { floats: Array<number | null> }): number[] => s.floats.map((v) => (v === null ? Number.NaN : v));

describe.skipIf(!present)('CatBoost oracle fixtures', () => {
  const runtime = new OnnxModelRuntime({ intraOpNumThreads: 1 });

  it('has fixtures of both kinds', () => {
    expect(supported.length).toBeGreaterThan(0);
    expect(unsupported.length).toBeGreaterThan(0);
  });

  it.each(supported.map((f) => [f.name, f] as const))('%s: evaluator equals CatBoost exactly, ORT within 1e-5', async (_name, f) => {
    const { onnx, model, info } = convertCbmToOnnx(f.cbm, {});
    expect(info.features).toBe(f.json.float_feature_count);
    expect(f.json.samples.length).toBe(f.json.predictions.length);
    const n = f.json.samples.length;
    const width = model.featureNames.length;
    const flat = new Float32Array(n * width);
    let evalErr = 0;
    f.json.samples.forEach((s, i) => {
      const x = row(s);
      flat.set(x, i * width);
      const want = f.json.predictions[i]![0]!;
      const got = evaluate(model, x);
      evalErr = Math.max(evalErr, Math.abs(got - want));
      expect(got, `${f.name} row ${i}`).toBe(want);
    });
    const session = await runtime.load(onnx);
    try {
      const out = await session.run(flat, n);
      let ortErr = 0;
      for (let i = 0; i < n; i++) ortErr = Math.max(ortErr, Math.abs(out[i]! - f.json.predictions[i]![0]!));
      console.log(
        `[catboost-oracle] ${f.name}: trees ${info.trees}, depth ${info.depth}, bias ${info.bias}; max |evaluator − CatBoost| ${evalErr}, max |ORT − CatBoost| ${ortErr.toExponential(2)}`,
      );
      expect(ortErr).toBeLessThan(1e-5);
    } finally {
      await session.close();
    }
  });

  it.each(unsupported.map((f) => [f.name, f] as const))('%s: refused with the reason', (_name, f) => {
    const reason = expectedRefusal(f.json)!;
    expect(() => readCbm(f.cbm)).toThrow(reason);
    expect(() => convertCbmToOnnx(f.cbm, {})).toThrow(/unsupported CatBoost model/);
  });

  it('refuses truncated and non-cbm input', () => {
    const f = supported[0]!;
    expect(() => readCbm(f.cbm.subarray(0, 100))).toThrow(/truncated/);
    expect(() => readCbm(new TextEncoder().encode('not a model at all'))).toThrow(/CBM1/);
    const trailing = new Uint8Array(f.cbm.length + 4);
    trailing.set(f.cbm);
    expect(() => readCbm(trailing)).toThrow(/after the model core/);
  });
});
