/** Closing a service's HTTP server (shared/http/drainable-server.ts): requests in flight finish before the close does. */
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createDrainableServer, type DrainableServer } from '../../shared/http/drainable-server.js';

/** Longer than the test timeout: a close that waited for it instead of for the request would fail the test. */
const NEVER_MS = 10 * 60_000;

let servers: DrainableServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close(0)));
  servers = [];
});

async function start(handler: (res: import('node:http').ServerResponse) => void): Promise<{ drainable: DrainableServer; url: string }> {
  const drainable = createDrainableServer((_req, res) => handler(res));
  servers.push(drainable);
  await new Promise<void>((resolve) => drainable.server.listen(0, '127.0.0.1', () => resolve()));
  return { drainable, url: `http://127.0.0.1:${(drainable.server.address() as AddressInfo).port}` };
}

/** A GET over a kept-alive connection: status, body and the response's Connection header. */
function get(url: string, agentKeepAlive = true): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { connection: agentKeepAlive ? 'keep-alive' : 'close' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

describe('a drainable server', () => {
  it('close waits for the request in flight: its response arrives whole, and close resolves after it', async () => {
    let release = (): void => {};
    const held = new Promise<void>((r) => (release = r));
    const { drainable, url } = await start((res) => {
      void held.then(() => res.end('done'));
    });
    const response = get(url);
    await until(() => drainable.inFlight() === 1);

    let closed = false;
    const closing = drainable.close(NEVER_MS).then(() => (closed = true));
    // The handler is held: whatever the machine's speed, close cannot have finished.
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    await expect(get(url, false)).rejects.toThrow(); // no new connections once closing

    release();
    expect(await response).toMatchObject({ status: 200, body: 'done' });
    await closing;
    expect(closed).toBe(true);
    expect(drainable.inFlight()).toBe(0);
  });

  it('an idle kept-alive connection does not hold the close up', async () => {
    const { drainable, url } = await start((res) => res.end('ok'));
    expect(await get(url)).toMatchObject({ status: 200, body: 'ok' });
    await drainable.close(NEVER_MS);
    expect(drainable.server.listening).toBe(false);
  });

  it('after the grace, a request still running has its connection cut', async () => {
    const { drainable, url } = await start(() => {
      // never answers
    });
    const response = get(url);
    await until(() => drainable.inFlight() === 1);
    await drainable.close(10);
    await expect(response).rejects.toThrow(/socket hang up|ECONNRESET/);
  });
});
