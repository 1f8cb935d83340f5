/**
 * The whole product in one process on loopback: coordinator and worker on their own HTTP ports, the local bus pushing
 * envelopes between them over real HTTP, the local batch store, the DuckDB warehouse and the file model store.
 * Used by `npm start` and by the end-to-end tests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Warehouse } from '../shared/ports/warehouse.js';
import type { Clock } from '../shared/ports/clock.js';
import type { AppLogger } from '../shared/ports/logger.js';
import type { ModelRuntime } from '../shared/ports/model-runtime.js';
import type { Bus } from '../shared/ports/bus.js';
import type { BatchStore } from '../shared/ports/batch-store.js';
import { systemClock } from '../shared/ports/clock.js';
import { topicNames } from '../shared/config/common.js';
import { LocalBus } from '../shared/adapters/local-bus/local-bus.js';
import { LocalBatchStore } from '../shared/adapters/local-batch-store/local-batch-store.js';
import { FileModelStore } from '../shared/adapters/file-model-store/file-model-store.js';
import { OnnxModelRuntime } from '../shared/adapters/onnx/onnx-model-runtime.js';
import { createCoordinatorApp } from '../services/coordinator/app.js';
import { createWorkerApp } from '../services/worker/app.js';
import { ModelSet } from '../services/worker/models/model-set.js';
import { loadRegistry } from '../services/worker/models/registry-query.js';
import { FeatureCache } from '../services/worker/predict/feature-cache.js';
import type { CoordinatorDeps } from '../services/coordinator/deps.js';
import type { WorkerDeps } from '../services/worker/deps.js';

export interface LocalStackOptions {
  warehouse: Warehouse;
  modelsDir: string;
  apiKey: string;
  logger: AppLogger;
  clock?: Clock;
  /** Override the model runtime (tests inject failing or counting runtimes). */
  runtime?: ModelRuntime;
  ortThreads?: number;
  topicSuffix?: string;
  maxDeliveryAttempts?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  maxOutstanding?: number;
  leaseTtlMs?: number;
  /** Wraps the bus the coordinator publishes through (tests inject publish failures). */
  wrapCoordinatorBus?: (bus: Bus) => Bus;
  /**
   * Buses the services publish through instead of the embedded local bus (e.g. PubSubBus on the emulator). Delivery to
   * `/predict` and `/complete` is then the injected transport's business; the caller owns and closes these buses.
   */
  coordinatorBus?: Bus;
  workerBus?: Bus;
  /** The batch store instead of the in-memory LocalBatchStore (e.g. FirestoreBatchStore on the emulator). */
  batchStore?: BatchStore;
}

export interface LocalStack {
  coordinatorUrl: string;
  workerUrl: string;
  /** The embedded bus (idle when both services were given their own bus). */
  bus: LocalBus;
  batches: BatchStore;
  models: ModelSet;
  topics: ReturnType<typeof topicNames>;
  coordinator: CoordinatorDeps;
  worker: WorkerDeps;
  close(): Promise<void>;
}

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const clock = opts.clock ?? systemClock;
  const topics = topicNames(opts.topicSuffix ?? '');
  const bus = new LocalBus({ logger: opts.logger.child({ component: 'local-bus' }) });
  const batches = opts.batchStore ?? new LocalBatchStore(clock);

  const models = new ModelSet();
  const runtime = opts.runtime ?? new OnnxModelRuntime({ intraOpNumThreads: opts.ortThreads ?? 1 });
  await models.load(await loadRegistry(opts.warehouse), new FileModelStore(opts.modelsDir), runtime, opts.logger.child({ service: 'worker' }), clock);

  const worker: WorkerDeps = {
    warehouse: opts.warehouse,
    bus: opts.workerBus ?? bus,
    clock,
    logger: opts.logger.child({ service: 'worker' }),
    models,
    features: new FeatureCache(opts.warehouse, clock),
    settings: { readyTopic: topics.ready, instance: 'local-worker' },
  };
  const coordinator: CoordinatorDeps = {
    warehouse: opts.warehouse,
    bus: opts.wrapCoordinatorBus ? opts.wrapCoordinatorBus(opts.coordinatorBus ?? bus) : (opts.coordinatorBus ?? bus),
    batches,
    clock,
    logger: opts.logger.child({ service: 'coordinator' }),
    settings: { topics: { request: topics.request, phase5: topics.phase5 }, leaseTtlMs: opts.leaseTtlMs ?? 30 * 60_000, publishChunkSize: 100, outputDataset: 'nba_predictions' },
  };

  const workerServer = await listen(createWorkerApp(worker));
  const coordinatorServer = await listen(createCoordinatorApp(coordinator, { operatorAuth: { apiKeys: [opts.apiKey] } }));
  const workerUrl = urlOf(workerServer);
  const coordinatorUrl = urlOf(coordinatorServer);

  const delivery = {
    maxDeliveryAttempts: opts.maxDeliveryAttempts ?? 5,
    minBackoffMs: opts.minBackoffMs ?? 100,
    maxBackoffMs: opts.maxBackoffMs ?? 5_000,
    maxOutstanding: opts.maxOutstanding ?? 8,
  };
  bus.subscribe({ name: `${topics.request}-push`, topic: topics.request, pushEndpoint: `${workerUrl}/predict`, deadLetterTopic: `${topics.request}-dlq`, ...delivery });
  bus.subscribe({ name: `${topics.ready}-push`, topic: topics.ready, pushEndpoint: `${coordinatorUrl}/complete`, deadLetterTopic: `${topics.ready}-dlq`, ...delivery });

  return {
    coordinatorUrl,
    workerUrl,
    bus,
    batches,
    models,
    topics,
    coordinator,
    worker,
    async close() {
      await bus.close();
      await Promise.all([close(workerServer), close(coordinatorServer)]);
      await models.close();
    },
  };
}

function listen(app: Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(app);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function urlOf(server: Server): string {
  const addr = server.address() as AddressInfo;
  return `http://127.0.0.1:${addr.port}`;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
