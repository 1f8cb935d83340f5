/**
 * The worker's models, loaded once at start-up: every enabled, active registry row, fetched through the ModelStore by URI,
 * checked against the registry's sha256, converted in memory when the artefact is a CatBoost `.cbm`, opened as one session
 * with explicit thread settings, and checked against its family's feature contract. A model that fails any step is refused
 * with its reason (visible on `/models`); the others still load. The worker is ready only when the champion loaded.
 */
import { createHash } from 'node:crypto';
import type { ModelStore } from '../../../shared/ports/model-store.js';
import type { ModelRuntime, ModelSession } from '../../../shared/ports/model-runtime.js';
import type { AppLogger } from '../../../shared/ports/logger.js';
import { FAMILY_FEATURES, familyOf, type ModelFamily } from '../../../shared/contracts/feature-contract.js';
import { errorMessage } from '../../../shared/errors/error-message.js';
import type { RegistryEntry } from './registry-query.js';
import { systemClock, type Clock } from '../../../shared/ports/clock.js';
import { CircuitBreaker } from './circuit-breaker.js';

export interface LoadedModel {
  systemId: string;
  version: string;
  family: ModelFamily;
  champion: boolean;
  quantileAlpha: number | null;
  /** The artefact's URI in the model store (the registry's gcs_path). */
  uri: string;
  fileName: string;
  sha256: string;
  session: ModelSession;
  width: number;
  breaker: CircuitBreaker;
}

export interface RefusedModel {
  systemId: string;
  uri: string;
  reason: string;
}

export class ModelSet {
  readonly loaded: LoadedModel[] = [];
  readonly refused: RefusedModel[] = [];
  championId: string | null = null;

  get ready(): boolean {
    return this.loaded.some((m) => m.champion);
  }

  async load(
    entries: readonly RegistryEntry[],
    store: ModelStore,
    runtime: ModelRuntime,
    log: AppLogger,
    clock: Clock = systemClock,
  ): Promise<void> {
    this.championId = entries.find((e) => e.is_production)?.model_id ?? null;
    for (const entry of entries) {
      try {
        const model = await loadOne(entry, store, runtime, new CircuitBreaker(clock));
        this.loaded.push(model);
        log.info(
          { system_id: model.systemId, family: model.family, sha256: model.sha256, champion: model.champion },
          `model ${model.systemId} loaded`,
        );
      } catch (err) {
        const reason = errorMessage(err);
        this.refused.push({ systemId: entry.model_id, uri: entry.gcs_path, reason });
        log.error(
          { system_id: entry.model_id, uri: entry.gcs_path, reason, champion: entry.is_production },
          `model ${entry.model_id} refused: ${reason}`,
        );
      }
    }
    // Champion first: its row is written first and its flags lead.
    this.loaded.sort((a, b) => Number(b.champion) - Number(a.champion) || a.systemId.localeCompare(b.systemId));
  }

  async close(): Promise<void> {
    await Promise.all(this.loaded.map((m) => m.session.close()));
  }
}

async function loadOne(entry: RegistryEntry, store: ModelStore, runtime: ModelRuntime, breaker: CircuitBreaker): Promise<LoadedModel> {
  const family = familyOf(entry.feature_set);
  const contract = FAMILY_FEATURES[family];
  const bytes = await store.fetch(entry.gcs_path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (entry.sha256_hash && entry.sha256_hash.toLowerCase() !== sha256) {
    throw new Error(`sha256 mismatch: registry says ${entry.sha256_hash}, artefact is ${sha256}`);
  }
  // The CatBoost reader (and flatbuffers under it) is loaded only for a .cbm artefact: a registry of ONNX models never needs it.
  const onnx = entry.gcs_path.toLowerCase().endsWith('.cbm')
    ? (await import('../../../shared/catboost/convert.js')).convertCbmToOnnx(bytes, {
        featureNames: [...contract],
        metadata: { family, model_id: entry.model_id },
      }).onnx
    : bytes;
  const session = await runtime.load(onnx);
  try {
    checkFeatureNames(session.featureNames, contract);
  } catch (err) {
    await session.close();
    throw err;
  }
  return {
    systemId: entry.model_id,
    version: entry.model_version,
    family,
    champion: entry.is_production,
    quantileAlpha: entry.quantile_alpha,
    uri: entry.gcs_path,
    fileName: entry.gcs_path.split('/').pop() ?? entry.gcs_path,
    sha256,
    session,
    width: contract.length,
    breaker,
  };
}

/** The model's stored feature names must equal the family's contract order; the message names the first difference. */
export function checkFeatureNames(actual: readonly string[] | undefined, contract: readonly string[]): void {
  if (actual === undefined) throw new Error('the model has no feature_names metadata; cannot check its input order');
  const n = Math.max(actual.length, contract.length);
  for (let i = 0; i < n; i++) {
    if (actual[i] !== contract[i]) {
      throw new Error(
        `feature order differs from the contract at position ${i}: model has '${actual[i] ?? '(none)'}', contract has '${contract[i] ?? '(none)'}' (model ${actual.length} features, contract ${contract.length})`,
      );
    }
  }
}
