/** Coordinator process: parse the config once, build it (wiring.ts), serve, and own the process's signals. */
import { loadCoordinatorConfig } from './config.js';
import { buildCoordinatorApp, buildCoordinatorDeps } from './wiring.js';
import { serve } from '../../shared/http/serve.js';
import { armCrashPoints } from '../../shared/faults/crash-points.js';
import { errorMessage } from '../../shared/errors/error-message.js';
import { SERVICE } from './app.js';

async function main(): Promise<void> {
  const config = loadCoordinatorConfig(process.env);
  armCrashPoints(config.CRASH_AT);
  const runtime = await buildCoordinatorDeps(config);
  await serve(await buildCoordinatorApp(runtime), {
    host: config.HOST,
    port: config.PORT,
    logger: runtime.logger,
    service: SERVICE,
    onListening: (url) => runtime.started({ coordinator: url }),
    drain: () => runtime.drain(),
    cleanup: () => runtime.close(),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ severity: 'CRITICAL', message: `coordinator failed to start: ${errorMessage(err)}`, stack: err instanceof Error ? err.stack : undefined })}\n`,
  );
  process.exit(1);
});
