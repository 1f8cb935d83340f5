/**
 * The vectors the worker builds equal the original's, for any pattern of NULLs (issue 14). Expected vectors come from
 * test/helpers/original-vectors.ts, the original's rules written out again without the product's feature code. The wiring
 * through the tables, with real models, is test/integration/feature-fills-real-catboost.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FAMILY_FEATURES,
  FEATURE_NAMES,
  featureColumn,
  type FeatureValues,
  type ModelFamily,
} from '../../shared/contracts/feature-contract.js';
import { buildVector } from '../../shared/contracts/feature-vector.js';
import { fillFeatures } from '../../shared/contracts/feature-fills.js';
import { resolveVegas } from '../../services/worker/predict/vegas.js';
import {
  ORIGINAL_STORE_NAMES,
  ORIGINAL_V12_NAMES,
  ORIGINAL_V12_NOVEG_NAMES,
  originalByNameVector,
  originalFeatures,
  originalV9Vector,
  type StoreRowInput,
} from '../helpers/original-vectors.js';
import { storeRowArbitrary } from '../helpers/feature-rows-arbitrary.js';

/** What the worker does with a feature-store row (handle-request.ts): NULL → absent, vegas, then the fills, then each vector. */
function productVector(family: ModelFamily, row: StoreRowInput, line: number | null): Float32Array {
  const values: FeatureValues = {};
  FEATURE_NAMES.forEach((name, i) => {
    const v = row.values[i];
    if (v !== null && v !== undefined) values[name] = v;
  });
  const filled = fillFeatures(resolveVegas(values, [line]).values, row.daysRest);
  const out = new Float32Array(FAMILY_FEATURES[family].length);
  buildVector(family, filled, out);
  return out;
}

function originalVector(family: ModelFamily, row: StoreRowInput, line: number | null): Float32Array {
  const f = originalFeatures(row, line);
  const v =
    family === 'v9'
      ? originalV9Vector(f, ORIGINAL_STORE_NAMES.slice(0, 33))
      : originalByNameVector(f, family === 'v12' ? ORIGINAL_V12_NAMES : ORIGINAL_V12_NOVEG_NAMES);
  return Float32Array.from(v);
}

/** Equal as float32 model inputs: same value, or NaN in the same place. */
function sameInputs(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) return `position ${i}: product ${x}, original ${y}`;
  }
  return null;
}

describe('feature fills: the product builds the original vector for any pattern of NULLs', () => {
  it('the contract store order is the original store order', () => {
    expect([...FEATURE_NAMES]).toEqual(ORIGINAL_STORE_NAMES);
    expect(featureColumn(54)).toBe('feature_54_value');
  });

  for (const family of ['v9', 'v12', 'v12_noveg'] as const) {
    it(`${family}: every NULL pattern, with and without a request line, with any row-level days_rest`, () => {
      fc.assert(
        fc.property(
          storeRowArbitrary(),
          fc.option(
            fc.integer({ min: 16, max: 70 }).map((x) => x / 2),
            { nil: null },
          ),
          (row, line) => {
            const problem = sameInputs(productVector(family, row, line), originalVector(family, row, line));
            expect(problem).toBeNull();
          },
        ),
        { numRuns: 2000, seed: 14 },
      );
    });
  }

  it('the cases the issue names: ppm, minutes, opponent fills; vegas_line_move by name; days_rest from the row', () => {
    const row = (patch: Record<string, number | null>, daysRest: number | null): StoreRowInput => {
      const values = ORIGINAL_STORE_NAMES.map<number | null>((_, i) => (i < 25 ? 10 + (i % 5) : null));
      values[1] = 18; // points_avg_last_10
      values[2] = 16; // points_avg_season
      for (const [name, v] of Object.entries(patch)) values[ORIGINAL_STORE_NAMES.indexOf(name)] = v;
      return { values, daysRest };
    };
    const at = (family: ModelFamily, name: string) => FAMILY_FEATURES[family].indexOf(name as never);
    // Nothing but the base features: minutes 30, ppm 18/30, opponent average = season average, 0 games.
    const bare = productVector('v9', row({}, null), null);
    expect(bare[at('v9', 'minutes_avg_last_10')]).toBe(30);
    expect(bare[at('v9', 'ppm_avg_last_10')]).toBe(Math.fround(18 / 30));
    expect(bare[at('v9', 'avg_points_vs_opponent')]).toBe(16);
    expect(bare[at('v9', 'games_vs_opponent')]).toBe(0);
    expect(Number.isNaN(bare[at('v9', 'vegas_line_move')] as number)).toBe(true);
    // Minutes present but zero: ppm 0.5.
    expect(productVector('v9', row({ minutes_avg_last_10: 0 }, null), null)[at('v9', 'ppm_avg_last_10')]).toBe(0.5);
    // By name, a missing line move is 0.0 (positional v9 keeps NaN).
    expect(productVector('v12', row({ vegas_points_line: 20.5 }, null), null)[at('v12', 'vegas_line_move')]).toBe(0);
    // The row's days_rest column overrides feature 39; NULL → 1; 0 stays 0.
    expect(productVector('v12_noveg', row({ days_rest: 4 }, 2), null)[at('v12_noveg', 'days_rest')]).toBe(2);
    expect(productVector('v12_noveg', row({ days_rest: 4 }, null), null)[at('v12_noveg', 'days_rest')]).toBe(1);
    expect(productVector('v12', row({}, 0), null)[at('v12', 'days_rest')]).toBe(0);
  });
});
