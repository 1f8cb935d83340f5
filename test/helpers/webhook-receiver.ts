/** A local stand-in for a Slack incoming webhook on 127.0.0.1: records every POST, answers 200 `ok` (or what a test sets). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedAlert {
  text: string;
  /** The alert id the Slack notifier writes on the last line (`_alert <id>_`). */
  id: string | null;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedAlert[];
  /** Status the next POSTs get (200 by default). */
  answer(status: number): void;
  /** Alert ids received, with how many times each. */
  counts(): Map<string, number>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedAlert[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const text = String((JSON.parse(body) as { text?: unknown }).text ?? '');
      received.push({ text, id: /_alert ([^_\s][^\n]*)_$/.exec(text)?.[1] ?? null });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no_service');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/XXXX`,
    received,
    answer: (s) => {
      status = s;
    },
    counts() {
      const m = new Map<string, number>();
      for (const r of received) m.set(r.id ?? '(none)', (m.get(r.id ?? '(none)') ?? 0) + 1);
      return m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
