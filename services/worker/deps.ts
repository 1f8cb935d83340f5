/** What the worker's domain needs, as ports. Built by `buildWorkerDeps` (wiring.ts). */
import type { Warehouse } from '../../shared/ports/warehouse.js';
import type { Bus } from '../../shared/ports/bus.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { AppLogger } from '../../shared/ports/logger.js';
import type { ModelSet } from './models/model-set.js';
import type { FeatureCache } from './predict/feature-cache.js';
import type { BatchStateCache, BatchStateReader } from './predict/batch-state.js';
import type { ModelStore } from '../../shared/ports/model-store.js';

export interface WorkerSettings {
  readyTopic: string;
  /** Written on rows (deployment_revision) and completion events (worker_instance). */
  instance: string;
  /** The build's commit, written on rows (build_commit_sha); absent → 'unknown', as the original wrote. */
  buildCommit?: string;
  /** /health/deep's probe topic, and how long each of its checks may take. */
  healthTopic: string;
  healthCheckTimeoutMs: number;
}

export interface WorkerDeps {
  warehouse: Warehouse;
  bus: Bus;
  clock: Clock;
  logger: AppLogger;
  models: ModelSet;
  features: FeatureCache;
  batchState: BatchStateCache;
  /** Where the models were fetched from, and the batch store read (both for /health/deep). */
  modelStore: ModelStore;
  batchReader: BatchStateReader;
  settings: WorkerSettings;
}
