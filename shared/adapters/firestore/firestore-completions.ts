/**
 * The end of dispatch and per-player completions: the two steps that decide who finishes a batch. Each reads the batch
 * document (the serialisation point: every completion writes it) and what it needs before staging any write, in one
 * transaction, so `finished` is true for exactly one caller however many redeliveries race.
 */
import type { DocumentSnapshot } from '@google-cloud/firestore';
import { ENDED_STATES, type BatchRecord, type CompletionResult } from '../../ports/batch-store.js';
import { completionDocSchema, parseDoc, publishedChunkSchema, readBatchDoc, toBatchRecord, type BatchDoc, type CompletionDoc } from './batch-docs.js';
import { chunkByJsonBytes } from './chunks.js';
import { inTransaction, type StoreContext } from './store-context.js';

export function finishDispatch(
  ctx: StoreContext,
  chunkBudgetBytes: number,
  batchId: string,
  published: readonly string[],
  summary: Record<string, unknown>,
): Promise<{ batch: BatchRecord; finished: boolean }> {
  const batchRef = ctx.paths.batch(batchId);
  return inTransaction(ctx, batchRef, async (tx) => {
    const snap = await tx.get(batchRef);
    if (!snap.exists) throw new Error(`unknown batch ${batchId}`);
    const doc = readBatchDoc(snap.data(), batchRef.path);
    if (doc.state !== 'dispatching') throw new Error(`batch ${batchId} is ${doc.state}, not dispatching`);
    const completions = await tx.get(ctx.paths.players(batchId));

    // Completions that came in during dispatch counted provisionally; from now on only published players count.
    const players = new Set(published);
    let completed = 0;
    let predictions = 0;
    for (const c of completions.docs) {
      const completion: CompletionDoc = parseDoc(completionDocSchema, c.data(), c.ref.path);
      if (players.has(completion.player_lookup)) {
        completed++;
        predictions += completion.predictions;
      }
    }
    const chunks = chunkByJsonBytes([...players], chunkBudgetBytes, 'published player');
    chunks.forEach((chunk, i) => tx.set(ctx.paths.published(batchId, i), { players: chunk }));
    const now = ctx.clock.now().toISOString();
    const finished = completed >= players.size;
    const next: BatchDoc = {
      ...doc,
      expected: players.size,
      completed,
      total_predictions: predictions,
      summary_json: JSON.stringify(summary),
      dispatched_at: now,
      updated_at: now,
      state: finished ? 'consolidating' : 'running',
      published_chunks: chunks.length,
    };
    tx.set(batchRef, next);
    return { batch: toBatchRecord(next, batchRef.path), finished };
  });
}

export function recordCompletion(ctx: StoreContext, batchId: string, playerLookup: string, predictions: number): Promise<CompletionResult> {
  const batchRef = ctx.paths.batch(batchId);
  const playerRef = ctx.paths.player(batchId, playerLookup);
  return inTransaction(ctx, batchRef, async (tx): Promise<CompletionResult> => {
    const snap = await tx.get(batchRef);
    if (!snap.exists) return { kind: 'unknown_batch' };
    const doc = readBatchDoc(snap.data(), batchRef.path);
    const chunkRefs = Array.from({ length: doc.published_chunks ?? 0 }, (_, i) => ctx.paths.published(batchId, i));
    const [player, ...chunks] = await tx.getAll(playerRef, ...chunkRefs);
    const current = () => toBatchRecord(doc, batchRef.path);

    if (ENDED_STATES.includes(doc.state) || doc.state === 'consolidating') return { kind: 'batch_ended', batch: current() };
    if (player?.exists) return { kind: 'duplicate', batch: current() };
    if (doc.published_chunks !== null && !chunks.some((c) => publishedIn(c, playerLookup))) return { kind: 'not_in_batch', batch: current() };

    const now = ctx.clock.now().toISOString();
    const completion: CompletionDoc = { player_lookup: playerLookup, predictions, recorded_at: now };
    const counted = { completed: doc.completed + 1, total_predictions: doc.total_predictions + predictions, updated_at: now };
    const finished = doc.state === 'running' && counted.completed >= doc.expected;
    const next: BatchDoc = { ...doc, ...counted, state: finished ? 'consolidating' : doc.state };
    tx.create(playerRef, completion);
    tx.update(batchRef, { ...counted, state: next.state });
    return { kind: 'recorded', batch: toBatchRecord(next, batchRef.path), finished };
  });
}

function publishedIn(chunk: DocumentSnapshot, playerLookup: string): boolean {
  if (!chunk.exists) throw new Error(`published chunk ${chunk.ref.path} is missing`);
  return parseDoc(publishedChunkSchema, chunk.data(), chunk.ref.path).players.includes(playerLookup);
}
