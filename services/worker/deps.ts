/** What the worker's domain needs, as ports. Built by main.ts or by tests. */
import type { Warehouse } from '../../shared/ports/warehouse.js';
import type { Bus } from '../../shared/ports/bus.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { AppLogger } from '../../shared/ports/logger.js';
import type { ModelSet } from './models/model-set.js';
import type { FeatureCache } from './predict/feature-cache.js';

export interface WorkerSettings {
  readyTopic: string;
  /** Written on rows (deployment_revision) and completion events (worker_instance). */
  instance: string;
  /** The build's commit, written on rows (build_commit_sha); absent → 'unknown', as the original wrote. */
  buildCommit?: string;
}

export interface WorkerDeps {
  warehouse: Warehouse;
  bus: Bus;
  clock: Clock;
  logger: AppLogger;
  models: ModelSet;
  features: FeatureCache;
  settings: WorkerSettings;
}
