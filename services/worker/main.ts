/**
 * Worker process: parse the config once, build it (wiring.ts: every model loads before serving), serve, own the signals.
 * A worker whose champion did not load exits instead of serving (docs/operations.md): it would otherwise take pushes and
 * end batches with shadow rows only.
 */
import { loadWorkerConfig } from './config.js';
import { buildWorkerApp, buildWorkerDeps } from './wiring.js';
import { serve } from '../../shared/http/serve.js';
import { armCrashPoints } from '../../shared/faults/crash-points.js';
import { errorMessage } from '../../shared/errors/error-message.js';
import { SERVICE } from './app.js';

async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env);
  armCrashPoints(config.CRASH_AT);
  const runtime = await buildWorkerDeps(config);
  const models = runtime.deps.models;
  if (!models.ready) {
    const reason = models.championId
      ? `champion ${models.championId} did not load: ${models.refused.find((r) => r.systemId === models.championId)?.reason ?? 'unknown'}`
      : 'no champion (is_production) in the registry';
    throw new Error(`not serving: ${reason}`);
  }
  await serve(buildWorkerApp(runtime), {
    host: config.HOST,
    port: config.PORT,
    logger: runtime.logger,
    service: SERVICE,
    drain: () => runtime.deps.bus.close(),
    cleanup: () => runtime.close(),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ severity: 'CRITICAL', message: `worker failed to start: ${errorMessage(err)}`, stack: err instanceof Error ? err.stack : undefined })}\n`,
  );
  process.exit(1);
});
