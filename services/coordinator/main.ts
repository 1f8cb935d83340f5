/**
 * Coordinator composition root: parse the config once, build the adapters it selects, hand ports to the app, own the
 * process. With GCP_PROJECT_ID: BigQuery, Pub/Sub, Firestore. Embedded default: DuckDB, the local bus (pushing requests to
 * WORKER_PUSH_URL), the in-process batch store.
 */
import { createLogger } from '../../shared/logging/logger.js';
import { systemClock } from '../../shared/ports/clock.js';
import { topicNames } from '../../shared/config/common.js';
import { serve } from '../../shared/http/serve.js';
import { openWarehouse } from '../../shared/adapters/select/warehouse.js';
import { createBus } from '../../shared/adapters/select/bus.js';
import { createBatchStore } from '../../shared/adapters/select/batch-store.js';
import { loadCoordinatorConfig } from './config.js';
import { createCoordinatorApp } from './app.js';
import { operatorAuthConfig, pushAuthConfig } from '../../shared/config/auth-env.js';
import { secretManagerResolver } from '../../shared/http/auth/api-key-source.js';
import { buildOperatorAuth, buildPushAuth, googleCertSource } from '../../shared/http/auth/setup.js';
import type { CoordinatorDeps } from './deps.js';

async function main(): Promise<void> {
  const config = loadCoordinatorConfig(process.env);
  const logger = createLogger({ service: 'prediction-coordinator', level: config.LOG_LEVEL, revision: config.K_REVISION });
  const topics = topicNames(config.TOPIC_SUFFIX);
  logger.info({ warehouse: config.WAREHOUSE, bus: config.BUS, batch_store: config.BATCH_STORE }, 'adapters selected');
  const warehouse = await openWarehouse(config, 'prediction-coordinator', logger);
  const bus = await createBus(config, logger, { topic: topics.request, endpoint: config.WORKER_PUSH_URL });
  const batches = await createBatchStore(config, systemClock);
  const deps: CoordinatorDeps = {
    warehouse,
    bus,
    batches: batches.store,
    clock: systemClock,
    logger,
    settings: {
      topics: { request: topics.request, phase5: topics.phase5 },
      leaseTtlMs: config.LEASE_TTL_SECONDS * 1000,
      publishChunkSize: config.PUBLISH_CHUNK_SIZE,
      outputDataset: config.OUTPUT_DATASET,
    },
  };
  const certs = googleCertSource(config.OIDC_CERTS_URL);
  const operatorAuth = await buildOperatorAuth(operatorAuthConfig(config), { resolver: secretManagerResolver(), certs, logger });
  const pushAuth = buildPushAuth(pushAuthConfig(config), { certs, logger, endpoint: '/complete' });
  const app = createCoordinatorApp(deps, { operatorAuth, pushAuth, projectId: config.GCP_PROJECT_ID });
  await serve(app, {
    host: config.HOST,
    port: config.PORT,
    logger,
    cleanup: async () => {
      await bus.close(); // flushes the publisher
      await batches.close();
      await warehouse.close();
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ severity: 'CRITICAL', message: `coordinator failed to start: ${err instanceof Error ? err.message : String(err)}` })}\n`);
  process.exit(1);
});
