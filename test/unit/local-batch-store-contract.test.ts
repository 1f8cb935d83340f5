/** The BatchStore contract against the embedded store on DuckDB (the Firestore adapter runs the same suite on its emulator). */
import { afterAll } from 'vitest';
import { LocalBatchStore } from '../../shared/adapters/local-batch-store/local-batch-store.js';
import { DuckDbDatabase } from '../../shared/adapters/duckdb/duckdb-database.js';
import { batchStoreContract } from '../helpers/batch-store-contract.js';

const opened: DuckDbDatabase[] = [];
afterAll(async () => {
  for (const db of opened) await db.close();
});

batchStoreContract('embedded batch store (DuckDB)', async (clock) => {
  const db = await DuckDbDatabase.open(':memory:');
  opened.push(db);
  const store = await LocalBatchStore.open(db, clock);
  return { store, peer: store };
});
