/**
 * Worker composition root: parse the config once, load every registry model before serving (/ready reports it), build
 * the adapters, own the process. With GCP_PROJECT_ID: BigQuery, Pub/Sub, Cloud Storage (gs:// models). Embedded default:
 * DuckDB, the local bus (pushing completions to COORDINATOR_PUSH_URL), the file model store. onnxruntime either way, with
 * explicit thread settings.
 */
import { createLogger } from '../../shared/logging/logger.js';
import { systemClock } from '../../shared/ports/clock.js';
import { topicNames } from '../../shared/config/common.js';
import { serve } from '../../shared/http/serve.js';
import { openWarehouse } from '../../shared/adapters/select/warehouse.js';
import { createBus } from '../../shared/adapters/select/bus.js';
import { createModelStore } from '../../shared/adapters/select/model-store.js';
import { OnnxModelRuntime } from '../../shared/adapters/onnx/onnx-model-runtime.js';
import { loadWorkerConfig } from './config.js';
import { createWorkerApp } from './app.js';
import { pushAuthConfig } from '../../shared/config/auth-env.js';
import { buildPushAuth, googleCertSource } from '../../shared/http/auth/setup.js';
import { ModelSet } from './models/model-set.js';
import { loadRegistry } from './models/registry-query.js';
import { FeatureCache } from './predict/feature-cache.js';
import type { WorkerDeps } from './deps.js';

async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env);
  const logger = createLogger({ service: 'prediction-worker', level: config.LOG_LEVEL, revision: config.K_REVISION });
  const topics = topicNames(config.TOPIC_SUFFIX);
  logger.info({ warehouse: config.WAREHOUSE, bus: config.BUS, model_store: config.MODEL_STORE }, 'adapters selected');
  const warehouse = await openWarehouse(config, 'prediction-worker', logger);
  const bus = await createBus(config, logger, { topic: topics.ready, endpoint: config.COORDINATOR_PUSH_URL });
  const models = new ModelSet();
  await models.load(await loadRegistry(warehouse), await createModelStore(config), new OnnxModelRuntime({ intraOpNumThreads: config.ORT_INTRA_OP_THREADS }), logger, systemClock);
  const deps: WorkerDeps = {
    warehouse,
    bus,
    clock: systemClock,
    logger,
    models,
    features: new FeatureCache(warehouse, systemClock, config.FEATURE_CACHE_TTL_SECONDS * 1000),
    settings: { readyTopic: topics.ready, instance: config.K_REVISION ?? 'local' },
  };
  const pushAuth = buildPushAuth(pushAuthConfig(config), { certs: googleCertSource(config.OIDC_CERTS_URL), logger, endpoint: '/predict' });
  await serve(createWorkerApp(deps, { projectId: config.GCP_PROJECT_ID, pushAuth }), {
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
