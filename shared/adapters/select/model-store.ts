/** Builds the model store the config selects: files only, or Cloud Storage for gs:// URIs (loaded only then) with files for the rest. */
import { FileModelStore } from '../file-model-store/file-model-store.js';
import type { ModelStore } from '../../ports/model-store.js';

export interface ModelStoreConfig {
  MODEL_STORE: 'file' | 'gcs';
  MODEL_STORE_ROOT: string;
  GCP_PROJECT_ID?: string | undefined;
}

export async function createModelStore(cfg: ModelStoreConfig): Promise<ModelStore> {
  const files = new FileModelStore(cfg.MODEL_STORE_ROOT);
  if (cfg.MODEL_STORE === 'file') return files;
  const [{ Storage }, { GcsModelStore }] = await Promise.all([
    import('@google-cloud/storage'),
    import('../gcs-model-store/gcs-model-store.js'),
  ]);
  return new GcsModelStore({ storage: new Storage(cfg.GCP_PROJECT_ID ? { projectId: cfg.GCP_PROJECT_ID } : {}), files });
}
