/** What the coordinator's domain needs, as ports, and its settings. Built by `buildCoordinatorDeps` (wiring.ts). */
import type { Warehouse } from '../../shared/ports/warehouse.js';
import type { Bus } from '../../shared/ports/bus.js';
import type { BatchStore } from '../../shared/ports/batch-store.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { AppLogger } from '../../shared/ports/logger.js';
import type { Notifier } from '../../shared/ports/notifier.js';
import type { TopicNames } from '../../shared/config/common.js';
import { topicNames } from '../../shared/config/common.js';
import type { CoordinatorConfig } from './config.js';

export interface ConsolidationSettings {
  deadlineMs: number;
  verifyWaitMs: number;
  lockWaitMs: number;
  /** The merge lock outlives a consolidation that dies holding it by at most this. */
  lockTtlMs: number;
  conflictRetryMs: number;
}

export interface CoordinatorSettings {
  topics: TopicNames;
  /** A lease whose batch died expires after this long, so the date is not blocked forever. */
  leaseTtlMs: number;
  /** Messages handed to the bus per publish call. */
  publishChunkSize: number;
  /** Players per prediction request message. */
  playersPerMessage: number;
  /** Batches this deployment runs well side by side: what a backfill is told to use (GET /capacity). */
  backfillConcurrency: number;
  /** Dataset name written in the phase-5 message (before any prefix). */
  outputDataset: string;
  consolidation: ConsolidationSettings;
  /** Stalled batches within an hour that raise the repeated-stalls alert. */
  stallAlertThreshold: number;
  /** How long one /health/deep check may take. */
  healthCheckTimeoutMs: number;
}

export interface CoordinatorDeps {
  warehouse: Warehouse;
  bus: Bus;
  batches: BatchStore;
  clock: Clock;
  logger: AppLogger;
  /** Where alerts go (Slack, or the log); services/coordinator/alerts sends each alert once. */
  notifier: Notifier;
  settings: CoordinatorSettings;
  /** Waits between polls and retries; real time unless a test injects its own. */
  wait?: (ms: number) => Promise<unknown>;
}

/** The settings, from the one config schema (defaults live there only). */
export function coordinatorSettings(config: CoordinatorConfig): CoordinatorSettings {
  const deadlineMs = config.CONSOLIDATION_DEADLINE_SECONDS * 1000;
  return {
    topics: topicNames(config.TOPIC_SUFFIX),
    leaseTtlMs: config.LEASE_TTL_SECONDS * 1000,
    publishChunkSize: config.PUBLISH_CHUNK_SIZE,
    playersPerMessage: config.PLAYERS_PER_MESSAGE,
    backfillConcurrency: config.BACKFILL_CONCURRENCY,
    outputDataset: config.OUTPUT_DATASET,
    consolidation: {
      deadlineMs,
      verifyWaitMs: config.VERIFY_WAIT_SECONDS * 1000,
      lockWaitMs: config.MERGE_LOCK_WAIT_SECONDS * 1000,
      lockTtlMs: deadlineMs + 60_000,
      conflictRetryMs: config.MERGE_CONFLICT_RETRY_SECONDS * 1000,
    },
    stallAlertThreshold: config.STALL_ALERT_THRESHOLD,
    healthCheckTimeoutMs: config.HEALTH_CHECK_TIMEOUT_SECONDS * 1000,
  };
}
