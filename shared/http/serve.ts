/**
 * Process lifecycle for a service: listen on HOST:PORT; on SIGTERM/SIGINT stop taking new work and drain — stop the bus
 * this process delivers from (pushes in flight get their time, the rest stay stored for the next process), stop
 * accepting connections, let requests in flight finish — then run the service's cleanup (flush the publisher, close
 * clients), all inside the 10 s Cloud Run gives, with a hard exit on a timer as the backstop. A programmer error that
 * escapes every handler (an unhandled rejection, an uncaught exception) is logged with its stack and ends the process:
 * the platform restarts it, and durable state (Pub/Sub, Firestore, the embedded stores) lets it resume.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { AppLogger } from '../ports/logger.js';
import { errorMessage } from '../errors/error-message.js';
import { REPORTED_ERROR_EVENT } from './error-handler.js';
import { createDrainableServer } from './drainable-server.js';

export interface ServeOptions {
  host: string;
  port: number;
  logger: AppLogger;
  service: string;
  /** Runs once the server listens, with its base URL. */
  onListening?: (url: string) => Promise<void>;
  /** Stops taking new work (runs first on shutdown). */
  drain?: () => Promise<void>;
  cleanup: () => Promise<void>;
  /** Hard exit after this long (Cloud Run sends SIGKILL 10 s after SIGTERM). */
  shutdownTimeoutMs?: number;
}

export function installProcessHandlers(logger: AppLogger, service: string): void {
  const die = (kind: string) => (err: unknown) => {
    const stack = err instanceof Error && err.stack ? err.stack : String(err);
    logger.error({ '@type': REPORTED_ERROR_EVENT, serviceContext: { service }, event: kind }, stack);
    process.stderr.write(`${JSON.stringify({ severity: 'CRITICAL', message: `${service}: ${kind}: ${errorMessage(err)}` })}\n`);
    process.exit(1);
  };
  process.on('unhandledRejection', die('unhandledRejection'));
  process.on('uncaughtException', die('uncaughtException'));
}

export async function serve(app: Express, opts: ServeOptions): Promise<Server> {
  installProcessHandlers(opts.logger, opts.service);
  const drainable = createDrainableServer(app);
  const server = drainable.server;
  // The push ack deadline is at most 600 s: a longer request is pointless, a shorter one would cut a consolidation.
  server.requestTimeout = 600_000;
  // Signals are handled before the port opens: a SIGTERM that arrives while the service is starting (onListening can take
  // a while) drains and exits 0 instead of killing the process with the default action.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    opts.logger.info({ signal }, 'shutting down: draining');
    const timer = setTimeout(() => {
      opts.logger.error({ signal }, 'shutdown timed out; exiting');
      process.exit(1);
    }, opts.shutdownTimeoutMs ?? 9_500);
    timer.unref();
    void (async () => {
      try {
        if (opts.drain) await opts.drain();
        // Requests still running after the drain get what is left of the budget, then their connections are cut; the
        // clients are closed after the last handler is done with them.
        await drainable.close(Math.max(0, 7_000 - (Date.now() - started)));
        await opts.cleanup();
        opts.logger.info({ ms: Date.now() - started }, 'shutdown complete');
        process.exit(0);
      } catch (err) {
        opts.logger.error({ err: errorMessage(err) }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host}:${addr.port}`;
  opts.logger.info({ port: addr.port, host: opts.host }, `listening on ${opts.host}:${addr.port}`);
  if (opts.onListening) {
    try {
      await opts.onListening(url);
    } catch (err) {
      // A signal during the start-up step: the drain closes what the step was starting (the embedded coordinator's bus
      // subscription fails with "bus closed"). The shutdown owns the exit; this failure is its consequence, not a crash.
      if (!stopping) throw err;
      opts.logger.warn({ err: errorMessage(err) }, 'start-up step cut short by the shutdown');
    }
  }

  return server;
}
