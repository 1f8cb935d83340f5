/**
 * An HTTP server that can be closed without cutting requests in flight. `close` stops accepting connections, closes the
 * idle kept-alive ones, lets every request already being handled finish (its handler's work is done once its response
 * is), and only then ends the remaining connections — so whoever closes the service's clients next (bus, batch store,
 * warehouse) does it after the last handler used them. A request that arrives on a kept-alive connection while closing
 * is still served, with `Connection: close`. The grace is a bound: after it, connections still busy are cut.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface DrainableServer {
  server: Server;
  /** Requests being handled now. */
  inFlight(): number;
  /** Stops accepting, waits (at most `graceMs`) for the requests in flight, then closes every connection. Idempotent. */
  close(graceMs: number): Promise<void>;
}

export function createDrainableServer(listener: (req: IncomingMessage, res: ServerResponse) => void): DrainableServer {
  let inFlight = 0;
  let closing: Promise<void> | undefined;
  let settled: (() => void) | undefined;
  const server = createServer((req, res) => {
    inFlight += 1;
    if (closing) res.setHeader('connection', 'close');
    res.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) settled?.();
    });
    listener(req, res);
  });

  const close = async (graceMs: number): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        settled = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
    }
    // Every connection left is idle now (or busy past the grace): end them so `closed` resolves.
    server.closeAllConnections();
    await closed;
  };

  return {
    server,
    inFlight: () => inFlight,
    close: (graceMs) => (closing ??= close(graceMs)),
  };
}
