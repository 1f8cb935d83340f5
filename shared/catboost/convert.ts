/**
 * `.cbm` → ONNX conversion: read the CatBoost model, check the expected feature order, write the ONNX model with
 * provenance metadata (feature_names, family, source_sha256, trees, depth, bias).
 */
import { createHash } from 'node:crypto';
import { readCbm, type CbmInfo } from './cbm-reader.js';
import type { ObliviousEnsemble } from './oblivious-ensemble.js';
import { writeOnnx } from './onnx-writer.js';

export interface ConvertOptions {
  /** Expected input order (e.g. metadata.json `features`). Must equal the model's FeatureIds when it has them. */
  featureNames?: string[];
  /** Extra metadata copied into the ONNX model, e.g. `family` (v9 | v12 | v12_noveg). */
  metadata?: Record<string, string>;
}

export interface ConvertResult {
  onnx: Uint8Array;
  model: ObliviousEnsemble;
  info: CbmInfo & { sourceSha256: string };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function resolveFeatureNames(modelNames: string[], hasFeatureIds: boolean, expected: string[] | undefined): string[] {
  if (expected === undefined) return modelNames;
  if (expected.length !== modelNames.length) {
    throw new Error(`feature names: ${expected.length} given, the model has ${modelNames.length} features`);
  }
  if (!hasFeatureIds) return [...expected];
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] !== modelNames[i]) {
      throw new Error(
        `feature names differ at position ${i}: given ${JSON.stringify(expected[i])}, the model has ${JSON.stringify(modelNames[i])}`,
      );
    }
  }
  return modelNames;
}

/** Converts CatBoost `.cbm` bytes to ONNX bytes. Throws on unsupported models and feature-order mismatches. */
export function convertCbmToOnnx(cbm: Uint8Array, opts: ConvertOptions = {}): ConvertResult {
  const { info, ...ensemble } = readCbm(cbm);
  const model: ObliviousEnsemble = {
    ...ensemble,
    featureNames: resolveFeatureNames(ensemble.featureNames, info.hasFeatureIds, opts.featureNames),
  };
  const sourceSha256 = sha256Hex(cbm);
  // Caller entries first (e.g. family); the computed provenance keys win over caller-provided ones.
  const metadata: Record<string, string> = { ...opts.metadata };
  metadata['source_sha256'] = sourceSha256;
  metadata['trees'] = String(info.trees);
  metadata['depth'] = String(info.depth);
  metadata['bias'] = String(info.bias);
  if (info.catboostVersion !== undefined) metadata['catboost_version'] = info.catboostVersion;
  const onnx = writeOnnx(model, metadata);
  return { onnx, model, info: { ...info, sourceSha256 } };
}
