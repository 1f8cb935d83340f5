/**
 * Process lifecycle for a service: listen on HOST:PORT, and on SIGTERM/SIGINT stop accepting, drain in-flight requests,
 * then run the service's cleanup (flush the publisher, close clients) — all inside the 10 s Cloud Run gives, with a hard
 * exit on a timer as the backstop.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { AppLogger } from '../ports/logger.js';
import { errorMessage } from '../errors/app-error.js';

export interface ServeOptions {
  host: string;
  port: number;
  logger: AppLogger;
  cleanup: () => Promise<void>;
  shutdownTimeoutMs?: number;
}

export async function serve(app: Express, opts: ServeOptions): Promise<Server> {
  const server = createServer(app);
  // Longer than the push ack deadline is pointless; shorter would cut long consolidations.
  server.requestTimeout = 600_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  opts.logger.info({ port: addr.port, host: opts.host }, `listening on ${opts.host}:${addr.port}`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    opts.logger.info({ signal }, 'shutting down: draining requests');
    const timer = setTimeout(() => {
      opts.logger.error({ signal }, 'shutdown timed out; exiting');
      process.exit(1);
    }, opts.shutdownTimeoutMs ?? 9_000);
    timer.unref();
    server.close(() => {
      opts.cleanup().then(
        () => {
          opts.logger.info('shutdown complete');
          process.exit(0);
        },
        (err: unknown) => {
          opts.logger.error({ err: errorMessage(err) }, 'cleanup failed during shutdown');
          process.exit(1);
        },
      );
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return server;
}
