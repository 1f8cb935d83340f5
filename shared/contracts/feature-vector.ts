/**
 * A model's input row from a player's feature values: the contract's order (shared/contracts/feature-contract.ts) with the
 * fills (shared/contracts/feature-fills.ts). In its own module so the contract and the fills do not import each other.
 */
import { FAMILY_FEATURES, type FeatureName, type FeatureValues, type ModelFamily } from './feature-contract.js';
import { missingValue } from './feature-fills.js';

/**
 * Builds one model's input row by name into `out` (reused across calls to avoid allocation churn). A name the values lack
 * takes the family's missing value (shared/contracts/feature-fills.ts, applied after `fillFeatures`); a missing base feature
 * throws: the caller validates before building.
 */
export function buildVector(family: ModelFamily, values: FeatureValues, out: Float32Array, offset = 0): void {
  const names = FAMILY_FEATURES[family];
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as FeatureName;
    const v = values[name];
    if (v !== undefined && v !== null) {
      out[offset + i] = v;
      continue;
    }
    const d = missingValue(family, name);
    if (d === undefined) throw new Error(`feature '${name}' is missing and has no default`);
    out[offset + i] = d;
  }
}
