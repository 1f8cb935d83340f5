/** Builds the Firestore batch store (transactions, shared by every instance). The client is loaded only when chosen. */
import type { BatchStore } from '../../ports/batch-store.js';
import type { Clock } from '../../ports/clock.js';

export interface FirestoreConfig {
  GCP_PROJECT_ID?: string | undefined;
  FIRESTORE_DATABASE: string;
  FIRESTORE_ROOT: string;
}

export async function createFirestoreBatchStore(
  cfg: FirestoreConfig,
  clock: Clock,
): Promise<{ store: BatchStore; close: () => Promise<void> }> {
  if (!cfg.GCP_PROJECT_ID) throw new Error('BATCH_STORE=firestore needs GCP_PROJECT_ID');
  const [{ Firestore }, { FirestoreBatchStore }] = await Promise.all([
    import('@google-cloud/firestore'),
    import('../firestore/firestore-batch-store.js'),
  ]);
  // FIRESTORE_EMULATOR_HOST, when set, is honoured by the client.
  const db = new Firestore({ projectId: cfg.GCP_PROJECT_ID, databaseId: cfg.FIRESTORE_DATABASE });
  return { store: new FirestoreBatchStore({ db, rootPath: cfg.FIRESTORE_ROOT, clock }), close: () => db.terminate() };
}
