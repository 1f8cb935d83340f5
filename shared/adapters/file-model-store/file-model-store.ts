/** ModelStore over the local filesystem: `file:///abs/path`, absolute paths, or paths relative to the store's root. */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelStore } from '../../ports/model-store.js';
import { errorMessage } from '../../errors/error-message.js';

export class FileModelStore implements ModelStore {
  constructor(private readonly root: string) {}

  async fetch(uri: string): Promise<Uint8Array> {
    if (uri.startsWith('gs://')) throw new Error(`model ${uri}: gs:// URIs need the Cloud Storage model store (MODEL_STORE=gcs)`);
    const path = uri.startsWith('file://') ? fileURLToPath(uri) : isAbsolute(uri) ? uri : resolve(this.root, uri);
    try {
      return new Uint8Array(await readFile(path));
    } catch (err) {
      throw new Error(`model ${uri}: cannot read ${path}: ${errorMessage(err)}`, { cause: err });
    }
  }
}
