/**
 * The whole product in one process on loopback: the coordinator and the worker on their own HTTP ports, each built by its
 * service's one builder (services/<svc>/wiring.ts) from its config schema; the worker shares the coordinator's embedded
 * warehouse, bus and batch store (the coordinator's process hosts them, as it does for a worker process of its own).
 * The local bus pushes envelopes between them over real HTTP; its messages and the batch store live in the DuckDB file, so
 * a restart resumes. Used by `npm start`, the benchmarks and the end-to-end tests.
 */
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { Warehouse } from '../shared/ports/warehouse.js';
import type { Clock } from '../shared/ports/clock.js';
import type { ModelRuntime } from '../shared/ports/model-runtime.js';
import type { Bus } from '../shared/ports/bus.js';
import type { BatchStore } from '../shared/ports/batch-store.js';
import type { DuckDbWarehouse } from '../shared/adapters/duckdb/duckdb-warehouse.js';
import type { LocalBus } from '../shared/adapters/local-bus/local-bus.js';
import type { TopicNames } from '../shared/config/common.js';
import { loadCoordinatorConfig } from '../services/coordinator/config.js';
import { loadWorkerConfig } from '../services/worker/config.js';
import { buildCoordinatorApp, buildCoordinatorDeps, type CoordinatorRuntime } from '../services/coordinator/wiring.js';
import { buildWorkerApp, buildWorkerDeps, type WorkerRuntime } from '../services/worker/wiring.js';
import type { CoordinatorDeps } from '../services/coordinator/deps.js';
import type { WorkerDeps } from '../services/worker/deps.js';
import type { ModelSet } from '../services/worker/models/model-set.js';
import { createDrainableServer, type DrainableServer } from '../shared/http/drainable-server.js';

/** How long closing waits for the requests in flight before it cuts their connections. */
const CLOSE_GRACE_MS = 30_000;

export interface LocalStackOptions {
  /** The embedded warehouse file (or :memory:); the batch store and the bus's messages live in it too. */
  duckdb: DuckDbWarehouse;
  /** What the services query through, when not `duckdb` itself (a query log, injected faults). */
  warehouse?: Warehouse;
  modelsDir: string;
  apiKey: string;
  logger: Logger;
  clock?: Clock;
  /** The model runtime (tests inject failing or counting runtimes). */
  runtime?: ModelRuntime;
  /** More configuration, as the services' environment would give it (e.g. LOCAL_BUS_MAX_DELIVERY_ATTEMPTS, PLAYERS_PER_MESSAGE). */
  env?: Record<string, string>;
  /** Wraps the bus the coordinator publishes through (tests inject publish failures). */
  wrapCoordinatorBus?: (bus: Bus) => Bus;
  /** Buses the services publish through instead of the embedded one (e.g. Pub/Sub on the emulator); the caller closes them. */
  coordinatorBus?: Bus;
  workerBus?: Bus;
  /** The batch store instead of the embedded one (e.g. Firestore on the emulator). */
  batchStore?: BatchStore;
  /** Waits between the coordinator's polls and retries (tests shorten them). */
  wait?: (ms: number) => Promise<unknown>;
}

export interface LocalStack {
  coordinatorUrl: string;
  workerUrl: string;
  /** The embedded bus (idle when both services were given their own bus). */
  bus: LocalBus;
  batches: BatchStore;
  models: ModelSet;
  topics: TopicNames;
  coordinator: CoordinatorDeps;
  worker: WorkerDeps;
  /**
   * Stops the bus, then the servers — waiting for the requests they are handling —, then the services' clients; the
   * DuckDB file stays open (the caller owns it).
   */
  close(): Promise<void>;
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const base = { LOG_LEVEL: opts.logger.level, DUCKDB_PATH: opts.duckdb.path, ...opts.env };
  const coordinatorConfig = loadCoordinatorConfig({ ...base, COORDINATOR_API_KEY: opts.apiKey });
  const coordinator: CoordinatorRuntime = await buildCoordinatorDeps(coordinatorConfig, {
    logger: opts.logger.child({ service: 'coordinator' }),
    duckdb: opts.duckdb,
    ...(opts.warehouse ? { warehouse: opts.warehouse } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.coordinatorBus ? { bus: opts.coordinatorBus } : {}),
    ...(opts.batchStore ? { batches: opts.batchStore } : {}),
    ...(opts.wrapCoordinatorBus ? { wrapBus: opts.wrapCoordinatorBus } : {}),
    ...(opts.wait ? { wait: opts.wait } : {}),
  });
  const embedded = coordinator.embedded;
  if (!embedded) throw new Error('the local stack runs the embedded default');
  const worker: WorkerRuntime = await buildWorkerDeps(loadWorkerConfig({ ...base, MODEL_STORE_ROOT: opts.modelsDir }), {
    logger: opts.logger.child({ service: 'worker' }),
    warehouse: opts.warehouse ?? embedded.warehouse,
    bus: opts.workerBus ?? embedded.bus,
    batchReader: opts.batchStore ?? embedded.batches,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.runtime ? { runtime: opts.runtime } : {}),
  });

  const workerServer = await listen(buildWorkerApp(worker, { accessLog: false }));
  const coordinatorServer = await listen(await buildCoordinatorApp(coordinator, { accessLog: false }));
  const workerUrl = urlOf(workerServer.server);
  const coordinatorUrl = urlOf(coordinatorServer.server);
  await coordinator.started({ coordinator: coordinatorUrl, worker: workerUrl });

  return {
    coordinatorUrl,
    workerUrl,
    bus: embedded.bus,
    batches: coordinator.deps.batches,
    models: worker.deps.models,
    topics: coordinator.deps.settings.topics,
    coordinator: coordinator.deps,
    worker: worker.deps,
    async close() {
      await coordinator.drain();
      // No handler may still be using a client when it is closed (a push's handler outlives a cut connection).
      await Promise.all([workerServer.close(CLOSE_GRACE_MS), coordinatorServer.close(CLOSE_GRACE_MS)]);
      await worker.close();
      await coordinator.close();
    },
  };
}

function listen(app: Express): Promise<DrainableServer> {
  return new Promise((resolve, reject) => {
    const drainable = createDrainableServer(app);
    drainable.server.once('error', reject);
    drainable.server.listen(0, '127.0.0.1', () => resolve(drainable));
  });
}

function urlOf(server: DrainableServer['server']): string {
  const addr = server.address() as AddressInfo;
  return `http://127.0.0.1:${addr.port}`;
}
