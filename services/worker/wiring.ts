/**
 * The one place the worker is wired: its adapters (BigQuery, Pub/Sub, Firestore reads, Cloud Storage with a project; the
 * embedded host's warehouse, bus and batch store when it runs beside an embedded coordinator; or ports handed over by the
 * local stack), its models — every one loaded before the app serves — and its app. main.ts, the local stack and the tests
 * all build it here.
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import { WarehouseError, type Warehouse } from '../../shared/ports/warehouse.js';
import { withRetry } from '../../shared/retry/backoff.js';
import { errorMessage } from '../../shared/errors/error-message.js';
import type { Bus } from '../../shared/ports/bus.js';
import type { ModelRuntime } from '../../shared/ports/model-runtime.js';
import type { ModelStore } from '../../shared/ports/model-store.js';
import { configuredClock, type Clock } from '../../shared/ports/clock.js';
import { createLogger } from '../../shared/logging/logger.js';
import { topicNames } from '../../shared/config/common.js';
import { openWarehouse } from '../../shared/adapters/select/warehouse.js';
import { createPubSubBus } from '../../shared/adapters/select/bus.js';
import { createFirestoreBatchStore } from '../../shared/adapters/select/batch-store.js';
import { createModelStore } from '../../shared/adapters/select/model-store.js';
import { RemoteBatchReader, RemoteBus, RemoteWarehouse } from '../../shared/embedded/embedded-client.js';
import { pushAuthConfig } from '../../shared/config/auth-env.js';
import { buildPushAuth, googleCertSource } from '../../shared/http/auth/setup.js';
import type { WorkerConfig } from './config.js';
import type { WorkerDeps } from './deps.js';
import { ModelSet } from './models/model-set.js';
import { loadRegistry } from './models/registry-query.js';
import { FeatureCache } from './predict/feature-cache.js';
import { BatchStateCache, type BatchStateReader } from './predict/batch-state.js';
import { createWorkerApp, SERVICE } from './app.js';

/** The registry read at boot: 9 waits of 0.25–8 s (25–48 s in all) at most; Cloud Run's startup probe allows 240 s. */
const REGISTRY_BOOT_RETRY = { attempts: 10, initialDelayMs: 500, maxDelayMs: 8_000 };

export interface WorkerOverrides {
  logger?: Logger;
  clock?: Clock;
  /** Ports handed over (the local stack shares the coordinator's embedded ones; tests inject faults). */
  warehouse?: Warehouse;
  bus?: Bus;
  batchReader?: BatchStateReader;
  /** The model runtime (tests inject failing or counting runtimes); default onnxruntime-node. */
  runtime?: ModelRuntime;
  modelStore?: ModelStore;
}

export interface WorkerRuntime {
  config: WorkerConfig;
  deps: WorkerDeps;
  logger: Logger;
  close(): Promise<void>;
}

// eslint-disable-next-line complexity -- wiring: each port picks an override, the embedded host or its Google adapter; one branch per port
export async function buildWorkerDeps(config: WorkerConfig, overrides: WorkerOverrides = {}): Promise<WorkerRuntime> {
  const logger = overrides.logger ?? createLogger({ service: SERVICE, level: config.LOG_LEVEL, revision: config.K_REVISION });
  const clock = overrides.clock ?? configuredClock(config.CLOCK_START);
  const host = config.EMBEDDED_HOST_URL;
  const closers: Array<() => Promise<void>> = [];
  const embedded = config.WAREHOUSE === 'duckdb' || config.BUS === 'local' || config.BATCH_STORE === 'local';
  if (embedded && !host && !(overrides.warehouse && overrides.bus && overrides.batchReader)) {
    throw new Error(
      'the worker on the embedded default needs EMBEDDED_HOST_URL (the coordinator process that hosts the DuckDB warehouse, the local bus and the batch store)',
    );
  }

  let warehouse = overrides.warehouse;
  if (!warehouse) {
    warehouse = config.WAREHOUSE === 'duckdb' ? new RemoteWarehouse(host as string) : await openWarehouse(config, SERVICE, logger);
    const owned = warehouse;
    closers.push(() => owned.close());
  }
  let bus = overrides.bus;
  if (!bus) {
    bus = config.BUS === 'local' ? new RemoteBus(host as string) : await createPubSubBus(config);
    const owned = bus;
    closers.unshift(() => owned.close());
  }
  let reader = overrides.batchReader;
  if (!reader) {
    if (config.BATCH_STORE === 'local') reader = new RemoteBatchReader(host as string);
    else {
      const firestore = await createFirestoreBatchStore(config, clock);
      closers.push(firestore.close);
      reader = firestore.store;
    }
  }

  const models = new ModelSet();
  const runtime =
    overrides.runtime ??
    new (await import('../../shared/adapters/onnx/onnx-model-runtime.js')).OnnxModelRuntime({
      intraOpNumThreads: config.ORT_INTRA_OP_THREADS,
    });
  // A retryable failure at boot (the embedded host still starting beside this worker, a BigQuery blip) is waited out, bounded;
  // anything else, or a host that never answers, stops the boot with its reason.
  const registryFrom = warehouse;
  const registry = await withRetry(() => loadRegistry(registryFrom), {
    ...REGISTRY_BOOT_RETRY,
    retryIf: (err) => err instanceof WarehouseError && err.retryable,
    onRetry: (err, attempt, delayMs) =>
      logger.warn(
        { attempt, retry_in_ms: delayMs, err: errorMessage(err) },
        `model registry not readable yet; retrying${host ? ` (is the coordinator at ${host} up?)` : ''}`,
      ),
  });
  const modelStore = overrides.modelStore ?? (await createModelStore(config));
  await models.load(registry, modelStore, runtime, logger, clock);
  closers.unshift(() => models.close());

  const deps: WorkerDeps = {
    warehouse,
    bus,
    clock,
    logger,
    models,
    features: new FeatureCache(warehouse, clock, config.FEATURE_CACHE_TTL_SECONDS * 1000),
    batchState: new BatchStateCache(reader, clock, logger, config.BATCH_STATE_TTL_SECONDS * 1000),
    modelStore,
    batchReader: reader,
    settings: {
      readyTopic: topicNames(config.TOPIC_SUFFIX).ready,
      instance: config.K_REVISION ?? 'local',
      buildCommit: config.BUILD_COMMIT,
      healthTopic: topicNames(config.TOPIC_SUFFIX).health,
      healthCheckTimeoutMs: config.HEALTH_CHECK_TIMEOUT_SECONDS * 1000,
    },
  };
  logger.info(
    { warehouse: config.WAREHOUSE, bus: config.BUS, model_store: config.MODEL_STORE, embedded_host: host ?? null },
    'adapters selected',
  );
  return {
    config,
    deps,
    logger,
    async close() {
      for (const close of closers) await close();
    },
  };
}

export function buildWorkerApp(runtime: WorkerRuntime, opts: { accessLog?: boolean } = {}): Express {
  const { config, logger } = runtime;
  const pushAuth = buildPushAuth(pushAuthConfig(config), { certs: googleCertSource(config.OIDC_CERTS_URL), logger, endpoint: '/predict' });
  return createWorkerApp(runtime.deps, {
    projectId: config.GCP_PROJECT_ID,
    pushAuth,
    ...(opts.accessLog === false ? {} : { accessLogger: logger }),
  });
}
