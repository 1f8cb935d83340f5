/** What the coordinator's domain needs, as ports. Built by main.ts (the composition root) or by tests. */
import type { Warehouse } from '../../shared/ports/warehouse.js';
import type { Bus } from '../../shared/ports/bus.js';
import type { BatchStore } from '../../shared/ports/batch-store.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { AppLogger } from '../../shared/ports/logger.js';
import type { DateLockTiming } from './batch/date-lock.js';

export interface CoordinatorSettings {
  topics: { request: string; phase5: string };
  /** A lease whose batch died expires after this long, so the date is not blocked forever. */
  leaseTtlMs: number;
  /** Messages handed to the bus per publish call. */
  publishChunkSize: number;
  /** Dataset name written in the phase-5 message (before any prefix). */
  outputDataset: string;
  /** Consolidation's per-date lock in the batch store; defaults to DEFAULT_DATE_LOCK. */
  dateLock?: DateLockTiming;
}

export interface CoordinatorDeps {
  warehouse: Warehouse;
  bus: Bus;
  batches: BatchStore;
  clock: Clock;
  logger: AppLogger;
  settings: CoordinatorSettings;
}
