/**
 * The worker's `/health/deep`: the warehouse (a query on the model registry), the bus (a probe published to the health topic),
 * the batch store (the read the worker makes of it: a batch's state), the model store (the champion's artefact fetched again
 * and its sha256 compared with the loaded one) and the loaded models (each session scores one row). 503 names what failed.
 * The worker never writes the batch store, so its check is the read it depends on; the coordinator's is a write and a delete.
 */
import { createHash } from 'node:crypto';
import type { WorkerDeps } from '../deps.js';
import { busProbe, runChecks, warehouseProbe, type DeepHealth } from '../../../shared/health/deep-health.js';

export function workerDeepHealth(deps: WorkerDeps, service: string): Promise<DeepHealth> {
  const now = () => deps.clock.now();
  return runChecks(
    service,
    {
      warehouse: () => warehouseProbe(deps.warehouse),
      bus: () => busProbe(deps.bus, deps.settings.healthTopic, service, now()),
      batch_store: async () => {
        await deps.batchReader.getBatch(`health-probe-${now().getTime()}`);
        return { read: true };
      },
      model_store: async () => {
        const champion = deps.models.loaded.find((m) => m.champion);
        if (!champion)
          throw new Error(
            deps.models.championId ? `champion ${deps.models.championId} is not loaded, nothing to compare` : 'no champion in the registry',
          );
        const bytes = await deps.modelStore.fetch(champion.uri);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        if (sha256 !== champion.sha256)
          throw new Error(`${champion.uri} changed in the store since it was loaded (sha256 ${sha256}, loaded ${champion.sha256})`);
        return { uri: champion.uri, bytes: bytes.length };
      },
      models: async () => {
        if (!deps.models.ready)
          throw new Error(
            deps.models.championId ? `champion ${deps.models.championId} not loaded` : 'no champion (is_production) in the registry',
          );
        for (const m of deps.models.loaded) {
          const out = await m.session.run(new Float32Array(m.width).fill(Number.NaN), 1);
          if (out.length !== 1 || !Number.isFinite(out[0])) throw new Error(`model ${m.systemId} scored a row as ${String(out[0])}`);
        }
        return { loaded: deps.models.loaded.length, refused: deps.models.refused.length, champion: deps.models.championId };
      },
    },
    { timeoutMs: deps.settings.healthCheckTimeoutMs, now },
  );
}
