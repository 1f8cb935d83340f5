/**
 * The one place the coordinator is wired: the adapters its config selects (Google ones with a project, the embedded default
 * without), its settings, its app. main.ts, the local stack and the tests all build it here — they differ only in the
 * config they parse and the overrides they pass.
 */
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import type { Bus } from '../../shared/ports/bus.js';
import type { BatchStore } from '../../shared/ports/batch-store.js';
import type { Notifier } from '../../shared/ports/notifier.js';
import { createNotifier } from '../../shared/adapters/select/notifier.js';
import { configuredClock, type Clock } from '../../shared/ports/clock.js';
import { createLogger } from '../../shared/logging/logger.js';
import { openWarehouse } from '../../shared/adapters/select/warehouse.js';
import { createPubSubBus } from '../../shared/adapters/select/bus.js';
import { createFirestoreBatchStore } from '../../shared/adapters/select/batch-store.js';
import type { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import type { EmbeddedInfra } from '../../shared/embedded/embedded-infra.js';
import { embeddedHost, EMBEDDED_PATH } from '../../shared/embedded/embedded-host.js';
import { operatorAuthConfig, pushAuthConfig } from '../../shared/config/auth-env.js';
import { secretManagerResolver, type SecretResolver } from '../../shared/http/auth/api-key-source.js';
import { buildOperatorAuth, buildPushAuth, googleCertSource } from '../../shared/http/auth/setup.js';
import { errorMessage } from '../../shared/errors/error-message.js';
import type { CoordinatorConfig } from './config.js';
import { coordinatorSettings, type CoordinatorDeps } from './deps.js';
import { createCoordinatorApp, SERVICE } from './app.js';
import { recoverOpenBatches, releaseLocksOfDeadProcess } from './batch/recovery.js';

export interface CoordinatorOverrides {
  logger?: Logger;
  clock?: Clock;
  /** The embedded default on an already open DuckDB warehouse (the local stack, tests) instead of DUCKDB_PATH. */
  duckdb?: DuckDbWarehouse;
  /** A port replaced outright (e.g. BigQuery against a local fake, a Pub/Sub bus on the emulator). */
  warehouse?: Warehouse;
  bus?: Bus;
  batches?: BatchStore;
  /** Wraps the bus the coordinator publishes through (tests inject publish failures). */
  wrapBus?: (bus: Bus) => Bus;
  /** Waits between polls and retries (tests may shorten them). */
  wait?: (ms: number) => Promise<unknown>;
  /** The notifier instead of the one the config selects (tests count alerts). */
  notifier?: Notifier;
  /** Where SLACK_WEBHOOK_SECRET is read (tests hand over a fake Secret Manager). */
  secrets?: SecretResolver;
}

export interface CoordinatorRuntime {
  config: CoordinatorConfig;
  deps: CoordinatorDeps;
  logger: Logger;
  /** The embedded default's warehouse, bus and batch store, when this process hosts them. */
  embedded: EmbeddedInfra | null;
  /** Once the app listens: the local bus subscribes its push topology; open batches left by a dead process are finished. */
  started(urls: { coordinator: string; worker?: string | undefined }): Promise<void>;
  /** Stops taking work from the bus; what is in flight gets its time, the rest stays stored. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

// eslint-disable-next-line complexity -- wiring: each port picks an override, the embedded default or its Google adapter; one branch per port
export async function buildCoordinatorDeps(config: CoordinatorConfig, overrides: CoordinatorOverrides = {}): Promise<CoordinatorRuntime> {
  const logger = overrides.logger ?? createLogger({ service: SERVICE, level: config.LOG_LEVEL, revision: config.K_REVISION });
  const clock = overrides.clock ?? configuredClock(config.CLOCK_START);
  const closers: Array<() => Promise<void>> = [];
  const needsEmbedded =
    (config.BUS === 'local' && !overrides.bus) ||
    (config.BATCH_STORE === 'local' && !overrides.batches) ||
    (config.WAREHOUSE === 'duckdb' && !overrides.warehouse);
  // Imported only when hosted: it loads DuckDB's native addon, which the service images do not ship (bin/image/images.ts).
  const embedded = needsEmbedded
    ? await (
        await import('../../shared/embedded/embedded-infra.js')
      ).openEmbeddedInfra({
        ...(overrides.duckdb ? { warehouse: overrides.duckdb } : {}),
        path: config.DUCKDB_PATH,
        clock,
        logger,
        bus: {
          maxDeliveryAttempts: config.LOCAL_BUS_MAX_DELIVERY_ATTEMPTS,
          minBackoffMs: config.LOCAL_BUS_MIN_BACKOFF_MS,
          maxBackoffMs: config.LOCAL_BUS_MAX_BACKOFF_MS,
          maxOutstanding: config.LOCAL_BUS_MAX_OUTSTANDING,
          closeTimeoutMs: config.LOCAL_BUS_CLOSE_TIMEOUT_MS,
        },
      })
    : null;

  const warehouse =
    overrides.warehouse ?? (config.WAREHOUSE === 'duckdb' && embedded ? embedded.warehouse : await openWarehouse(config, SERVICE, logger));
  if (!overrides.warehouse && !(config.WAREHOUSE === 'duckdb' && embedded)) closers.push(() => warehouse.close());
  let bus: Bus;
  if (overrides.bus) bus = overrides.bus;
  else if (config.BUS === 'local' && embedded) bus = embedded.bus;
  else {
    const pubsub = await createPubSubBus(config);
    closers.unshift(() => pubsub.close());
    bus = pubsub;
  }
  let batches: BatchStore;
  if (overrides.batches) batches = overrides.batches;
  else if (config.BATCH_STORE === 'local' && embedded) batches = embedded.batches;
  else {
    const firestore = await createFirestoreBatchStore(config, clock);
    closers.push(firestore.close);
    batches = firestore.store;
  }

  const deps: CoordinatorDeps = {
    warehouse,
    bus: overrides.wrapBus ? overrides.wrapBus(bus) : bus,
    batches,
    clock,
    logger,
    notifier: overrides.notifier ?? createNotifier(config, logger, overrides.secrets ?? secretManagerResolver()),
    settings: coordinatorSettings(config),
    ...(overrides.wait ? { wait: overrides.wait } : {}),
  };
  logger.info(
    {
      warehouse: config.WAREHOUSE,
      bus: config.BUS,
      batch_store: config.BATCH_STORE,
      notifier: deps.notifier.name,
      embedded: embedded !== null,
    },
    'adapters selected',
  );

  return {
    config,
    deps,
    logger,
    embedded,
    async started(urls) {
      if (!embedded) return;
      // This process is the only host of the embedded batch store: anything open belongs to a process that died. (A shared
      // store — Firestore — is never recovered at boot: another instance may be working on its batches; /check-stalled is.)
      const ownStore = batches === embedded.batches;
      const failed = (err: unknown) =>
        logger.error({ err: errorMessage(err) }, 'recovery of open batches failed; /check-stalled retries it');
      if (ownStore) await releaseLocksOfDeadProcess(deps).catch(failed);
      embedded.subscribe(deps.settings.topics, { coordinator: urls.coordinator, worker: urls.worker ?? config.WORKER_URL });
      if (ownStore) await recoverOpenBatches(deps).catch(failed);
    },
    async drain() {
      if (embedded) await embedded.bus.close();
      else await bus.close();
    },
    async close() {
      for (const close of closers) await close();
      if (embedded) await embedded.close();
    },
  };
}

/** The app, with the authentication the config names; on the embedded default it also hosts the infrastructure for a worker process. */
export async function buildCoordinatorApp(runtime: CoordinatorRuntime, opts: { accessLog?: boolean } = {}): Promise<Express> {
  const { config, logger, deps } = runtime;
  const certs = googleCertSource(config.OIDC_CERTS_URL);
  const operatorAuth = await buildOperatorAuth(operatorAuthConfig(config), { resolver: secretManagerResolver(), certs, logger });
  const pushAuth = buildPushAuth(pushAuthConfig(config), {
    certs,
    logger,
    endpoint: '/complete, /consolidate, /dead-letter, /regenerate-pubsub',
  });
  const app = createCoordinatorApp(deps, {
    operatorAuth,
    pushAuth,
    projectId: config.GCP_PROJECT_ID,
    ...(opts.accessLog === false ? {} : { accessLogger: logger }),
  });
  if (runtime.embedded)
    app.use(
      EMBEDDED_PATH,
      embeddedHost({ warehouse: runtime.embedded.warehouse, bus: runtime.embedded.bus, batches: runtime.embedded.batches }),
    );
  return app;
}
