/**
 * The end of dispatch and per-player completions: the two steps that decide who finishes a batch. Each reads the batch
 * document (the serialisation point: every completion event writes it), the player documents and the published chunks it
 * needs before staging any write, in one transaction, and applies the state machine (shared/batch) to the record, so
 * `finished` is true for exactly one caller however many redeliveries race. A completion event carries several players: it
 * is one transaction, one batch-document write.
 */
import type { DocumentSnapshot } from '@google-cloud/firestore';
import { BatchStoreError, type CompletionResult } from '../../ports/batch-store.js';
import { takesCompletions, type BatchRecord, type DispatchSummary, type PlayerCompletion } from '../../batch/batch-record.js';
import { applyCompletions, finishDispatch as finishDispatchRecord, sortCompletions } from '../../batch/batch-machine.js';
import { completionDoc, completionOf, parseDoc, publishedChunkSchema, readBatchDoc, recordFields, recordOf } from './batch-docs.js';
import { chunkByJsonBytes } from './chunks.js';
import { inTransaction, type StoreContext } from './store-context.js';

export function finishDispatch(
  ctx: StoreContext,
  chunkBudgetBytes: number,
  batchId: string,
  published: readonly string[],
  summary: DispatchSummary,
): Promise<{ batch: BatchRecord; finished: boolean }> {
  const batchRef = ctx.paths.batch(batchId);
  return inTransaction(ctx, batchRef, async (tx) => {
    const snap = await tx.get(batchRef);
    if (!snap.exists) throw new BatchStoreError('finishDispatch', `unknown batch ${batchId}`, { retryable: false });
    const doc = readBatchDoc(snap.data(), batchRef.path);
    const rec = recordOf(doc, batchRef.path);
    const completions = await tx.get(ctx.paths.players(batchId));
    const players = new Set(published);
    const early = completions.docs.map((c) => completionOf(c.data(), c.ref.path)).filter((c) => players.has(c.player_lookup));
    const done = finishDispatchRecord(rec, { published: players.size, summary, now: ctx.clock.now().toISOString() }, early);
    if (!done) throw new BatchStoreError('finishDispatch', `batch ${batchId} is ${rec.state}, not dispatching`, { retryable: false });
    const chunks = chunkByJsonBytes([...players], chunkBudgetBytes, 'published player');
    chunks.forEach((chunk, i) => tx.set(ctx.paths.published(batchId, i), { players: chunk }));
    tx.update(batchRef, { ...recordFields(done.record), published_chunks: chunks.length });
    return { batch: done.record, finished: done.finished };
  });
}

export function recordCompletions(ctx: StoreContext, batchId: string, completions: readonly PlayerCompletion[]): Promise<CompletionResult> {
  const batchRef = ctx.paths.batch(batchId);
  const players = [...new Set(completions.map((c) => c.player_lookup))];
  const playerRefs = players.map((p) => ctx.paths.player(batchId, p));
  return inTransaction(ctx, batchRef, async (tx): Promise<CompletionResult> => {
    const snap = await tx.get(batchRef);
    if (!snap.exists) return { kind: 'unknown_batch' };
    const doc = readBatchDoc(snap.data(), batchRef.path);
    const rec = recordOf(doc, batchRef.path);
    if (!takesCompletions(rec.state)) return { kind: 'batch_ended', batch: rec };
    const chunkRefs = Array.from({ length: doc.published_chunks ?? 0 }, (_, i) => ctx.paths.published(batchId, i));
    const read = playerRefs.length + chunkRefs.length > 0 ? await tx.getAll(...playerRefs, ...chunkRefs) : [];
    const reported = new Set(players.filter((_, i) => read[i]?.exists === true));
    const publishedSet = doc.published_chunks === null ? null : publishedPlayers(read.slice(playerRefs.length));
    const { fresh, duplicates, notInBatch } = sortCompletions(
      completions,
      (p) => reported.has(p),
      publishedSet === null ? null : (p) => publishedSet.has(p),
    );
    const now = ctx.clock.now().toISOString();
    const applied = applyCompletions(rec, publishedSet === null ? [] : fresh, now);
    if (!applied) return { kind: 'batch_ended', batch: rec };
    for (const c of fresh) tx.create(ctx.paths.player(batchId, c.player_lookup), completionDoc(c, now));
    if (applied.record !== rec) tx.update(batchRef, recordFields(applied.record));
    return {
      kind: 'recorded',
      batch: applied.record,
      recorded: fresh.map((c) => c.player_lookup),
      duplicates,
      notInBatch,
      finished: applied.finished,
    };
  });
}

function publishedPlayers(chunks: readonly DocumentSnapshot[]): Set<string> {
  const players = new Set<string>();
  for (const chunk of chunks) {
    if (!chunk.exists) throw new Error(`published chunk ${chunk.ref.path} is missing`);
    for (const p of parseDoc(publishedChunkSchema, chunk.data(), chunk.ref.path).players) players.add(p);
  }
  return players;
}
