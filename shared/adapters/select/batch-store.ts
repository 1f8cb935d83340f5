/**
 * Builds the batch store the config selects: Firestore (transactions, shared by every instance) or in-process.
 * The Firestore client and adapter are imported only when selected, so the embedded default never loads `@google-cloud/*`.
 */
import { LocalBatchStore } from '../local-batch-store/local-batch-store.js';
import type { BatchStore } from '../../ports/batch-store.js';
import type { Clock } from '../../ports/clock.js';

export interface BatchStoreConfig {
  BATCH_STORE: 'local' | 'firestore';
  GCP_PROJECT_ID?: string | undefined;
  FIRESTORE_DATABASE: string;
  FIRESTORE_ROOT: string;
}

export async function createBatchStore(cfg: BatchStoreConfig, clock: Clock): Promise<{ store: BatchStore; close: () => Promise<void> }> {
  if (cfg.BATCH_STORE === 'local') return { store: new LocalBatchStore(clock), close: async () => undefined };
  if (!cfg.GCP_PROJECT_ID) throw new Error('BATCH_STORE=firestore needs GCP_PROJECT_ID');
  const [{ Firestore }, { FirestoreBatchStore }] = await Promise.all([
    import('@google-cloud/firestore'),
    import('../firestore/firestore-batch-store.js'),
  ]);
  // FIRESTORE_EMULATOR_HOST, when set, is honoured by the client.
  const db = new Firestore({ projectId: cfg.GCP_PROJECT_ID, databaseId: cfg.FIRESTORE_DATABASE });
  return { store: new FirestoreBatchStore({ db, rootPath: cfg.FIRESTORE_ROOT, clock }), close: () => db.terminate() };
}
