/**
 * Coordinator composition root: parse the config once, build the adapters it selects, hand ports to the app, own the
 * process. Embedded default: DuckDB, the local bus (pushing requests to WORKER_PUSH_URL), the local batch store.
 */
import { createLogger } from '../../shared/logging/logger.js';
import { systemClock } from '../../shared/ports/clock.js';
import { topicNames } from '../../shared/config/common.js';
import { serve } from '../../shared/http/serve.js';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { ALL_TABLES } from '../../shared/contracts/tables.js';
import { LocalBus } from '../../shared/adapters/local-bus/local-bus.js';
import { LocalBatchStore } from '../../shared/adapters/local-batch-store/local-batch-store.js';
import { loadCoordinatorConfig } from './config.js';
import { createCoordinatorApp } from './app.js';
import { KeyedMutex } from './batch/keyed-mutex.js';
import type { CoordinatorDeps } from './deps.js';

async function main(): Promise<void> {
  const config = loadCoordinatorConfig(process.env);
  const logger = createLogger({ service: 'prediction-coordinator', level: config.LOG_LEVEL, revision: config.K_REVISION });
  const topics = topicNames(config.TOPIC_SUFFIX);
  const warehouse = await DuckDbWarehouse.open({ path: config.DUCKDB_PATH });
  await warehouse.ensureTables(ALL_TABLES);
  const bus = new LocalBus({ logger: logger.child({ component: 'local-bus' }) });
  if (config.WORKER_PUSH_URL) {
    bus.subscribe({ name: `${topics.request}-push`, topic: topics.request, pushEndpoint: config.WORKER_PUSH_URL, deadLetterTopic: `${topics.request}-dlq` });
  } else {
    logger.warn('WORKER_PUSH_URL is not set: prediction requests are published to the local bus with no subscriber');
  }
  const deps: CoordinatorDeps = {
    warehouse,
    bus,
    batches: new LocalBatchStore(systemClock),
    clock: systemClock,
    logger,
    settings: {
      topics: { request: topics.request, phase5: topics.phase5 },
      leaseTtlMs: config.LEASE_TTL_SECONDS * 1000,
      publishChunkSize: config.PUBLISH_CHUNK_SIZE,
      outputDataset: config.OUTPUT_DATASET,
    },
    dateLocks: new KeyedMutex(),
  };
  const app = createCoordinatorApp(deps, { apiKey: config.COORDINATOR_API_KEY, projectId: config.GCP_PROJECT_ID });
  await serve(app, {
    host: config.HOST,
    port: config.PORT,
    logger,
    cleanup: async () => {
      await bus.close();
      await warehouse.close();
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ severity: 'CRITICAL', message: `coordinator failed to start: ${err instanceof Error ? err.message : String(err)}` })}\n`);
  process.exit(1);
});
