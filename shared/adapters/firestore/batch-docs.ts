/**
 * Firestore document shapes for the batch store. The batch record is the state machine's (shared/batch) and is stored as
 * JSON text in `record_json` (Firestore refuses nested arrays and `undefined`, and would index every key of a map field),
 * beside the few fields the store queries on (`state`, `game_date`, `started_at`, `closed`). Every read is validated with
 * zod, so a malformed document fails loudly with its path.
 */
import { z } from 'zod';
import {
  BATCH_STATES,
  parseBatchRecord,
  playerCompletionSchema,
  playerOutcomeSchema,
  type BatchRecord,
  type PlayerCompletion,
  type PlayerOutcome,
} from '../../batch/batch-record.js';
import { isClosed } from '../../batch/batch-machine.js';
import { formatZodError } from '../../contracts/messages.js';
import { errorMessage } from '../../errors/error-message.js';

const batchDocSchema = z.object({
  batch_id: z.string(),
  game_date: z.string(),
  state: z.enum(BATCH_STATES),
  started_at: z.string(),
  closed: z.boolean(),
  record_json: z.string(),
  /** Number of `published/NNNNN` chunk documents; null until dispatch ends. */
  published_chunks: z.number().int().nonnegative().nullable(),
  /** Number of `outcomes/NNNNN` chunk documents. */
  outcome_chunks: z.number().int().nonnegative(),
});
export type BatchDoc = z.infer<typeof batchDocSchema>;

export const leaseDocSchema = z.object({ batch_id: z.string(), expires_at_ms: z.number(), claimed_at: z.string() });
export type LeaseDoc = z.infer<typeof leaseDocSchema>;

export const lockDocSchema = z.object({ holder: z.string(), expires_at_ms: z.number(), acquired_at: z.string() });
export type LockDoc = z.infer<typeof lockDocSchema>;

/** One player's completion: `completion_json` is the machine's PlayerCompletion. */
export const completionDocSchema = z.object({ player_lookup: z.string(), completion_json: z.string(), recorded_at: z.string() });
export type CompletionDoc = z.infer<typeof completionDocSchema>;

export const publishedChunkSchema = z.object({ players: z.array(z.string()) });

export const outcomeChunkSchema = z.object({ outcomes_json: z.string() });

/** Parses document data with `schema`, naming the document on failure. */
export function parseDoc<T>(schema: z.ZodType<T>, data: unknown, path: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new Error(`firestore document ${path} is malformed: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

export function parseJson<T>(schema: z.ZodType<T>, json: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`${what} is not JSON: ${errorMessage(err)}`, { cause: err });
  }
  return parseDoc(schema, value, what);
}

/** The document fields for `record` (the chunk counts are the store's own and kept as they are). */
export function recordFields(
  record: BatchRecord,
): Pick<BatchDoc, 'batch_id' | 'game_date' | 'state' | 'started_at' | 'closed' | 'record_json'> {
  return {
    batch_id: record.batch_id,
    game_date: record.game_date,
    state: record.state,
    started_at: record.started_at,
    closed: isClosed(record),
    record_json: JSON.stringify(record),
  };
}

export function newBatchDoc(record: BatchRecord): BatchDoc {
  return { ...recordFields(record), published_chunks: null, outcome_chunks: 0 };
}

export function readBatchDoc(data: unknown, path: string): BatchDoc {
  return parseDoc(batchDocSchema, data, path);
}

export function recordOf(doc: BatchDoc, path: string): BatchRecord {
  let value: unknown;
  try {
    value = JSON.parse(doc.record_json);
  } catch (err) {
    throw new Error(`${path}.record_json is not JSON: ${errorMessage(err)}`, { cause: err });
  }
  return parseBatchRecord(value, path);
}

export function completionDoc(completion: PlayerCompletion, now: string): CompletionDoc {
  return { player_lookup: completion.player_lookup, completion_json: JSON.stringify(completion), recorded_at: now };
}

export function completionOf(data: unknown, path: string): PlayerCompletion {
  return parseJson(playerCompletionSchema, parseDoc(completionDocSchema, data, path).completion_json, `${path}.completion_json`);
}

export function parseOutcomes(json: string, path: string): PlayerOutcome[] {
  return parseJson(z.array(playerOutcomeSchema), json, path);
}
