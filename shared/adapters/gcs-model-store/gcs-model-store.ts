/**
 * ModelStore over Cloud Storage for `gs://bucket/path` URIs; `file://` and plain paths go to the file store, so one registry
 * can mix both. The object is streamed into memory (models are a few MB) with the client's checksum validation on (crc32c, which Cloud Storage keeps for every object), capped at
 * `maxBytes`; the registry's sha256 is then checked by the model set, which refuses a model whose bytes differ.
 */
import type { Storage } from '@google-cloud/storage';
import type { ModelStore } from '../../ports/model-store.js';
import { errorMessage } from '../../errors/app-error.js';

export interface GcsModelStoreOptions {
  storage: Storage;
  /** Where non-`gs://` URIs go. */
  files: ModelStore;
  /** Refuse objects larger than this (default 256 MiB). */
  maxBytes?: number;
}

export interface GcsLocation {
  bucket: string;
  object: string;
}

const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** `gs://bucket/a/b.onnx` → { bucket, object }; throws naming what is wrong. */
export function parseGcsUri(uri: string): GcsLocation {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`model ${uri}: expected gs://bucket/path/to/object`);
  const [, bucket = '', object = ''] = match;
  if (!BUCKET.test(bucket)) throw new Error(`model ${uri}: '${bucket}' is not a valid bucket name`);
  return { bucket, object };
}

export class GcsModelStore implements ModelStore {
  private readonly maxBytes: number;

  constructor(private readonly opts: GcsModelStoreOptions) {
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
  }

  async fetch(uri: string): Promise<Uint8Array> {
    if (!uri.startsWith('gs://')) return this.opts.files.fetch(uri);
    const { bucket, object } = parseGcsUri(uri);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      const stream = this.opts.storage.bucket(bucket).file(object).createReadStream({ validation: true });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > this.maxBytes) {
          stream.destroy();
          throw new Error(`larger than the ${this.maxBytes}-byte limit`);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      throw new Error(`model ${uri}: cannot download from Cloud Storage: ${errorMessage(err)}`, { cause: err });
    }
    return new Uint8Array(Buffer.concat(chunks, size));
  }
}
