/** The BatchStore contract against the Firestore adapter on Google's emulator (skipped, with a message, without gcloud). */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreBatchStore } from '../../shared/adapters/firestore/firestore-batch-store.js';
import { ManualClock } from '../../shared/ports/clock.js';
import { batchRecord, batchStoreContract } from '../helpers/batch-store-contract.js';
import { sharedEmulators } from '../helpers/shared-emulators.js';

const emulators = sharedEmulators();

describe.skipIf(!emulators)('firestore batch store on the emulator', () => {
  let db: Firestore;
  let peerDb: Firestore;

  beforeAll(async () => {
    db = new Firestore({ projectId: 'demo-batch-store', host: emulators?.firestore, ssl: false });
    peerDb = new Firestore({ projectId: 'demo-batch-store', host: emulators?.firestore, ssl: false });
  });

  afterAll(async () => {
    await Promise.all([db?.terminate(), peerDb?.terminate()]);
  });

  // A fresh root per test isolates it; a small chunk budget makes 500 outcomes and 500 players span several documents.
  // The peer is a second store on the same root with its own client, as a second coordinator instance would be.
  batchStoreContract('firestore batch store', async (clock) => {
    const rootPath = `contract/${randomUUID()}`;
    return {
      store: new FirestoreBatchStore({ db, rootPath, clock, chunkBudgetBytes: 4096 }),
      peer: new FirestoreBatchStore({ db: peerDb, rootPath, clock, chunkBudgetBytes: 4096 }),
    };
  });

  describe('document layout', () => {
    it('keeps 500 outcomes in several chunk documents under one root, invisible to a store with another root', async () => {
      const rootPath = `layout/${randomUUID()}`;
      const store = new FirestoreBatchStore({
        db,
        rootPath,
        clock: new ManualClock(new Date('2026-11-22T15:00:00Z')),
        chunkBudgetBytes: 4096,
      });
      await store.createBatch(batchRecord('a'));
      const outcomes = Array.from({ length: 500 }, (_, i) => ({
        player_lookup: `p${i}`,
        game_id: 'g',
        outcome: 'published' as const,
        reason: 'quality_sufficient',
        line_source: null,
        line_value: null,
        sportsbook: null,
      }));
      await store.putOutcomes('a', outcomes);
      const chunks = await db.collection(`${rootPath}/batches/a/outcomes`).get();
      expect(chunks.size).toBeGreaterThan(1);
      const other = new FirestoreBatchStore({
        db,
        rootPath: `layout/${randomUUID()}`,
        clock: new ManualClock(new Date('2026-03-10T16:00:00Z')),
      });
      expect(await other.getBatch('a')).toBeNull();
    });

    it('rejects a root path that is not a document path, and a malformed batch document with its path', async () => {
      expect(
        () => new FirestoreBatchStore({ db, rootPath: 'only-a-collection', clock: new ManualClock(new Date('2026-03-10T16:00:00Z')) }),
      ).toThrow('rootPath must be a document path');
      const rootPath = `layout/${randomUUID()}`;
      await db.doc(`${rootPath}/batches/broken`).set({ batch_id: 'broken', state: 'sleeping' });
      const store = new FirestoreBatchStore({ db, rootPath, clock: new ManualClock(new Date('2026-03-10T16:00:00Z')) });
      await expect(store.getBatch('broken')).rejects.toThrow(`firestore document ${rootPath}/batches/broken is malformed`);
    });
  });
});
