/** The Cloud Storage model store against a local HTTP server that answers Cloud Storage's JSON API download route. */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRC32C, Storage } from '@google-cloud/storage';
import { GcsModelStore, parseGcsUri } from '../../shared/adapters/gcs-model-store/gcs-model-store.js';
import type { ModelStore } from '../../shared/ports/model-store.js';

const objects = new Map<string, { body: Buffer; sentFor?: Buffer }>();
const requests: string[] = [];
let server: Server;
let storage: Storage;

const googHash = (b: Buffer) =>
  `crc32c=${(() => {
    const c = new CRC32C();
    c.update(b);
    return c.toString();
  })()},md5=${createHash('md5').update(b).digest('base64')}`;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const m = /^\/storage\/v1\/b\/([^/]+)\/o\/([^?]+)\?alt=media/.exec(req.url ?? '');
    const key = m ? `${m[1]}/${decodeURIComponent(m[2] ?? '')}` : '';
    const obj = objects.get(key);
    if (!obj) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 404, message: `No such object: ${key}` } }));
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'x-goog-hash': googHash(obj.sentFor ?? obj.body),
      'x-goog-stored-content-encoding': 'identity',
    });
    res.end(obj.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  storage = new Storage({ apiEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, projectId: 'test-project' });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const files: ModelStore = { fetch: async (uri) => new TextEncoder().encode(`file:${uri}`) };

describe('GcsModelStore', () => {
  it('downloads gs:// objects whole, including object names with slashes and spaces', async () => {
    const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    objects.set('nba-models/catboost/v9 champion.onnx', { body });
    const bytes = await new GcsModelStore({ storage, files }).fetch('gs://nba-models/catboost/v9 champion.onnx');
    expect(Buffer.from(bytes).equals(body)).toBe(true);
    expect(requests.at(-1)).toBe('GET /storage/v1/b/nba-models/o/catboost%2Fv9%20champion.onnx?alt=media');
  });

  it('refuses an object whose bytes do not match the checksum the server sent', async () => {
    objects.set('nba-models/corrupt.onnx', { body: Buffer.from('truncated'), sentFor: Buffer.from('the real bytes') });
    await expect(new GcsModelStore({ storage, files }).fetch('gs://nba-models/corrupt.onnx')).rejects.toThrow(
      /gs:\/\/nba-models\/corrupt\.onnx: cannot download/,
    );
  });

  it('names the URI when the object does not exist', async () => {
    await expect(new GcsModelStore({ storage, files }).fetch('gs://nba-models/missing.onnx')).rejects.toThrow(
      /gs:\/\/nba-models\/missing\.onnx.*No such object/,
    );
  });

  it('refuses objects over the size limit', async () => {
    objects.set('nba-models/big.onnx', { body: Buffer.alloc(4096) });
    await expect(new GcsModelStore({ storage, files, maxBytes: 1024 }).fetch('gs://nba-models/big.onnx')).rejects.toThrow(
      /1024-byte limit/,
    );
  });

  it('sends file paths to the file store', async () => {
    const bytes = await new GcsModelStore({ storage, files }).fetch('file:///models/a.onnx');
    expect(new TextDecoder().decode(bytes)).toBe('file:file:///models/a.onnx');
  });

  it('rejects malformed gs:// URIs with the reason', () => {
    expect(() => parseGcsUri('gs://bucket-only')).toThrow(/expected gs:\/\/bucket\/path/);
    expect(() => parseGcsUri('gs://Bad_Bucket!/x.onnx')).toThrow(/not a valid bucket name/);
    expect(parseGcsUri('gs://b-1/x/y.onnx')).toEqual({ bucket: 'b-1', object: 'x/y.onnx' });
  });
});
