/**
 * A stand-in for the metadata server Cloud Run gives every instance, on 127.0.0.1: google-auth-library asks it for the
 * service account's access token when GCE_METADATA_HOST points here (with METADATA_SERVER_DETECTION=assume-present).
 * That is how the services authenticate in production; here the token only has to reach a fake API.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeMetadata {
  /** host:port, for GCE_METADATA_HOST. */
  host: string;
  tokensIssued(): number;
  close(): Promise<void>;
}

export async function startFakeMetadata(projectId: string, email: string): Promise<FakeMetadata> {
  let issued = 0;
  const server: Server = createServer((req, res) => {
    res.setHeader('Metadata-Flavor', 'Google');
    if (req.headers['metadata-flavor'] !== 'Google') {
      res.writeHead(403).end('Missing Metadata-Flavor:Google header');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://metadata').pathname;
    if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
      issued += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: `fake-access-token-${issued}`, expires_in: 3599, token_type: 'Bearer' }));
    } else if (path === '/computeMetadata/v1/project/project-id') {
      res.end(projectId);
    } else if (path === '/computeMetadata/v1/instance/service-accounts/default/email') {
      res.end(email);
    } else if (path === '/computeMetadata/v1/instance' || path === '/computeMetadata/v1/') {
      res.end('');
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    tokensIssued: () => issued,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
