/** The BatchStore contract against the in-process store (the Firestore adapter runs the same suite on its emulator). */
import { LocalBatchStore } from '../../shared/adapters/local-batch-store/local-batch-store.js';
import { batchStoreContract } from '../helpers/batch-store-contract.js';

batchStoreContract('local batch store', async (clock) => {
  const store = new LocalBatchStore(clock);
  return { store, peer: store };
});
