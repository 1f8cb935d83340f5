/**
 * Where the batch store keeps its documents, all under one root document so environments and tests isolate:
 *
 *   {root}/leases/{game_date}                      the date's lease: batch_id, expires_at_ms
 *   {root}/locks/{key}                             store-level lock (e.g. one merge per table): holder, expires_at_ms
 *   {root}/batches/{batch_id}                      the batch record (JSON) and the fields queries use
 *   {root}/batches/{batch_id}/players/{player}     one completion per player (id: playerDocId(player_lookup), chunks.ts)
 *   {root}/batches/{batch_id}/published/{00000}    the published players, chunked (written when dispatch ends)
 *   {root}/batches/{batch_id}/outcomes/{00000}     every candidate's outcome, chunked JSON
 *   {root}/events/{event_id}                       one-off events (alerts sent, stalls, triggers taken): kind, at, expires_at
 */
import type { CollectionReference, DocumentReference, Firestore } from '@google-cloud/firestore';
import { assertDocId, chunkId, playerDocId } from './chunks.js';

export class BatchStorePaths {
  readonly root: DocumentReference;

  constructor(db: Firestore, rootPath: string) {
    const segments = rootPath.split('/').filter((s) => s !== '');
    if (segments.length === 0 || segments.length % 2 !== 0) {
      throw new Error(`firestore batch store: rootPath must be a document path (collection/document[/…]), got ${JSON.stringify(rootPath)}`);
    }
    segments.forEach((s) => assertDocId(s, 'rootPath segment'));
    this.root = db.doc(segments.join('/'));
  }

  lease(gameDate: string): DocumentReference {
    return this.root.collection('leases').doc(assertDocId(gameDate, 'game_date'));
  }

  lock(key: string): DocumentReference {
    return this.root.collection('locks').doc(assertDocId(key, 'lock key'));
  }

  get events(): CollectionReference {
    return this.root.collection('events');
  }

  event(id: string): DocumentReference {
    return this.events.doc(assertDocId(id, 'event id'));
  }

  get batches(): CollectionReference {
    return this.root.collection('batches');
  }

  batch(batchId: string): DocumentReference {
    return this.batches.doc(assertDocId(batchId, 'batch_id'));
  }

  players(batchId: string): CollectionReference {
    return this.batch(batchId).collection('players');
  }

  player(batchId: string, playerLookup: string): DocumentReference {
    return this.players(batchId).doc(playerDocId(playerLookup));
  }

  published(batchId: string, index: number): DocumentReference {
    return this.batch(batchId).collection('published').doc(chunkId(index));
  }

  outcomes(batchId: string, index: number): DocumentReference {
    return this.batch(batchId).collection('outcomes').doc(chunkId(index));
  }
}
