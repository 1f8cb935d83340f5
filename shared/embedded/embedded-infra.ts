/**
 * The embedded default's infrastructure in one process: the DuckDB warehouse, and — durable in the same file — the batch
 * store and the local bus's messages, so nothing the process accepted is lost when it dies. The bus subscribes the
 * product's push topology (topology.ts) once the services' URLs are known.
 */
import type { Clock } from '../ports/clock.js';
import type { AppLogger } from '../ports/logger.js';
import type { TopicNames } from '../config/common.js';
import { openDuckDbWarehouse } from '../adapters/select/warehouse.js';
import type { DuckDbWarehouse } from '../adapters/duckdb/duckdb-warehouse.js';
import { LocalBatchStore } from '../adapters/local-batch-store/local-batch-store.js';
import { LocalBus } from '../adapters/local-bus/local-bus.js';
import { DuckDbBusStore } from '../adapters/local-bus/bus-store.js';
import { pushSubscriptions } from './topology.js';

export interface LocalBusSettings {
  maxDeliveryAttempts: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  maxOutstanding: number;
  closeTimeoutMs: number;
}

export interface EmbeddedInfra {
  warehouse: DuckDbWarehouse;
  bus: LocalBus;
  batches: LocalBatchStore;
  /** Subscribes the push topology: requests to the worker (when there is one), the rest to the coordinator. */
  subscribe(topics: TopicNames, urls: { coordinator: string; worker: string | undefined }): void;
  /** Stops the bus (pushes in flight get `closeTimeoutMs`; the rest stay stored), then closes the database if owned. */
  close(): Promise<void>;
}

export async function openEmbeddedInfra(opts: {
  /** An already open warehouse (tests, the local stack); else the file at `path` is opened and owned. */
  warehouse?: DuckDbWarehouse;
  path: string;
  clock: Clock;
  logger: AppLogger;
  bus: LocalBusSettings;
}): Promise<EmbeddedInfra> {
  const owned = opts.warehouse === undefined;
  const warehouse = opts.warehouse ?? (await openDuckDbWarehouse(opts.path));
  const batches = await LocalBatchStore.open(warehouse.db, opts.clock);
  const store = await DuckDbBusStore.open(warehouse.db);
  const bus = new LocalBus({ logger: opts.logger.child({ component: 'local-bus' }), store, closeTimeoutMs: opts.bus.closeTimeoutMs });
  return {
    warehouse,
    bus,
    batches,
    subscribe(topics, urls) {
      for (const sub of pushSubscriptions(topics)) {
        const base = sub.service === 'worker' ? urls.worker : urls.coordinator;
        if (base === undefined) {
          opts.logger.warn({ subscription: sub.name }, `no worker URL (WORKER_URL): messages on ${sub.topic} have no subscriber`);
          continue;
        }
        bus.subscribe({
          name: sub.name,
          topic: sub.topic,
          pushEndpoint: `${base}${sub.path}`,
          ...(sub.deadLetterTopic ? { deadLetterTopic: sub.deadLetterTopic } : {}),
          maxDeliveryAttempts: opts.bus.maxDeliveryAttempts,
          minBackoffMs: opts.bus.minBackoffMs,
          maxBackoffMs: opts.bus.maxBackoffMs,
          maxOutstanding: opts.bus.maxOutstanding,
        });
      }
    },
    async close() {
      await bus.close();
      if (owned) await warehouse.close();
    },
  };
}
