/**
 * Worker composition root: parse the config once, load every registry model before serving (/ready reports it), build
 * the adapters, own the process. Embedded default: DuckDB, the local bus (pushing completions to COORDINATOR_PUSH_URL),
 * the file model store and onnxruntime with explicit thread settings.
 */
import { createLogger } from '../../shared/logging/logger.js';
import { systemClock } from '../../shared/ports/clock.js';
import { topicNames } from '../../shared/config/common.js';
import { serve } from '../../shared/http/serve.js';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { ALL_TABLES } from '../../shared/contracts/tables.js';
import { LocalBus } from '../../shared/adapters/local-bus/local-bus.js';
import { FileModelStore } from '../../shared/adapters/file-model-store/file-model-store.js';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime.js';
import { loadWorkerConfig } from './config.js';
import { createWorkerApp } from './app.js';
import { ModelSet } from './models/model-set.js';
import { loadRegistry } from './models/registry-query.js';
import { FeatureCache } from './predict/feature-cache.js';
import type { WorkerDeps } from './deps.js';

async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env);
  const logger = createLogger({ service: 'prediction-worker', level: config.LOG_LEVEL, revision: config.K_REVISION });
  const topics = topicNames(config.TOPIC_SUFFIX);
  const warehouse = await DuckDbWarehouse.open({ path: config.DUCKDB_PATH });
  await warehouse.ensureTables(ALL_TABLES);
  const bus = new LocalBus({ logger: logger.child({ component: 'local-bus' }) });
  if (config.COORDINATOR_PUSH_URL) {
    bus.subscribe({ name: `${topics.ready}-push`, topic: topics.ready, pushEndpoint: config.COORDINATOR_PUSH_URL, deadLetterTopic: `${topics.ready}-dlq` });
  } else {
    logger.warn('COORDINATOR_PUSH_URL is not set: completion events are published to the local bus with no subscriber');
  }
  const models = new ModelSet();
  await models.load(await loadRegistry(warehouse), new FileModelStore(config.MODEL_STORE_ROOT), new OnnxModelRuntime({ intraOpNumThreads: config.ORT_INTRA_OP_THREADS }), logger, systemClock);
  const deps: WorkerDeps = {
    warehouse,
    bus,
    clock: systemClock,
    logger,
    models,
    features: new FeatureCache(warehouse, systemClock, config.FEATURE_CACHE_TTL_SECONDS * 1000),
    settings: { readyTopic: topics.ready, instance: config.K_REVISION ?? 'local' },
  };
  await serve(createWorkerApp(deps, { projectId: config.GCP_PROJECT_ID }), {
    host: config.HOST,
    port: config.PORT,
    logger,
    cleanup: async () => {
      await bus.close();
      await models.close();
      await warehouse.close();
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ severity: 'CRITICAL', message: `worker failed to start: ${err instanceof Error ? err.message : String(err)}` })}\n`);
  process.exit(1);
});
