/**
 * Firestore document shapes for the batch store, and the mappers between them and the port's plain records. Every read is
 * validated with zod, so a malformed document fails loudly with its path instead of leaking `unknown` into the domain.
 * `summary` and `consolidation` are stored as JSON strings: Firestore refuses nested arrays and `undefined`, and would
 * index every key of a map field (write cost, the 40,000 index entries per document limit).
 */
import { z } from 'zod';
import type { BatchRecord, BatchState, PlayerOutcome } from '../../ports/batch-store.js';
import { formatZodError } from '../../contracts/messages.js';
import { errorMessage } from '../../errors/error-message.js';

const STATES = ['dispatching', 'running', 'consolidating', 'complete', 'partial', 'failed'] as const satisfies readonly BatchState[];

const jsonObject = z.record(z.string(), z.unknown());

const batchDocSchema = z.object({
  batch_id: z.string(),
  game_date: z.string(),
  correlation_id: z.string(),
  dataset_prefix: z.string(),
  prediction_run_mode: z.string(),
  state: z.enum(STATES),
  expected: z.number().int(),
  completed: z.number().int(),
  total_predictions: z.number().int(),
  started_at: z.string(),
  dispatched_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  updated_at: z.string(),
  summary_json: z.string(),
  consolidation_json: z.string().nullable(),
  error: z.string().nullable(),
  /** Number of `published/NNNNN` chunk documents; null until dispatch ends. */
  published_chunks: z.number().int().nonnegative().nullable(),
  /** Number of `outcomes/NNNNN` chunk documents. */
  outcome_chunks: z.number().int().nonnegative(),
});
export type BatchDoc = z.infer<typeof batchDocSchema>;

export const leaseDocSchema = z.object({ batch_id: z.string(), expires_at_ms: z.number(), claimed_at: z.string() });
export type LeaseDoc = z.infer<typeof leaseDocSchema>;

export const dateLockDocSchema = z.object({ holder: z.string(), expires_at_ms: z.number(), acquired_at: z.string() });
export type DateLockDoc = z.infer<typeof dateLockDocSchema>;

export const completionDocSchema = z.object({ player_lookup: z.string(), predictions: z.number().int().nonnegative(), recorded_at: z.string() });
export type CompletionDoc = z.infer<typeof completionDocSchema>;

export const publishedChunkSchema = z.object({ players: z.array(z.string()) });

export const outcomeChunkSchema = z.object({ outcomes_json: z.string() });

const outcomeSchema = z.object({
  player_lookup: z.string(),
  game_id: z.string().nullable(),
  outcome: z.enum(['published', 'skipped', 'blocked', 'publish_failed']),
  reason: z.string(),
  line_source: z.string().nullable(),
  line_value: z.number().nullable(),
  sportsbook: z.string().nullable(),
});

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
    throw new Error(`${what} is not JSON: ${errorMessage(err)}`);
  }
  return parseDoc(schema, value, what);
}

export function toBatchDoc(record: BatchRecord): BatchDoc {
  const { summary, consolidation, ...rest } = record;
  return {
    ...rest,
    summary_json: JSON.stringify(summary),
    consolidation_json: consolidation === null ? null : JSON.stringify(consolidation),
    published_chunks: null,
    outcome_chunks: 0,
  };
}

export function readBatchDoc(data: unknown, path: string): BatchDoc {
  return parseDoc(batchDocSchema, data, path);
}

export function toBatchRecord(doc: BatchDoc, path: string): BatchRecord {
  const { summary_json, consolidation_json, published_chunks: _p, outcome_chunks: _o, ...rest } = doc;
  return {
    ...rest,
    summary: parseJson(jsonObject, summary_json, `${path}.summary_json`),
    consolidation: consolidation_json === null ? null : parseJson(jsonObject, consolidation_json, `${path}.consolidation_json`),
  };
}

export function parseOutcomes(json: string, path: string): PlayerOutcome[] {
  return parseJson(z.array(outcomeSchema), json, path);
}
