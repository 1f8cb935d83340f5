/**
 * The coordinator's `/health/deep`: the warehouse (a query on the model registry), the batch store (a write and a delete),
 * the bus (a probe published to the health topic). Each for real; 503 names what failed.
 */
import type { CoordinatorDeps } from '../deps.js';
import { batchStoreProbe, busProbe, runChecks, warehouseProbe, type DeepHealth } from '../../../shared/health/deep-health.js';

export function coordinatorDeepHealth(deps: CoordinatorDeps, service: string): Promise<DeepHealth> {
  const now = () => deps.clock.now();
  return runChecks(
    service,
    {
      warehouse: async () => {
        const detail = await warehouseProbe(deps.warehouse);
        if (detail.champions === 0)
          throw new Error(
            `the model registry has ${String(detail.enabled_models)} enabled models and no champion (is_production): /start cannot run`,
          );
        return detail;
      },
      batch_store: () => batchStoreProbe(deps.batches, 'coordinator', now()),
      bus: () => busProbe(deps.bus, deps.settings.topics.health, service, now()),
    },
    { timeoutMs: deps.settings.healthCheckTimeoutMs, now },
  );
}
