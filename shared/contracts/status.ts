/**
 * The `GET /status` answers, as zod contracts: the coordinator builds them, the operator CLI parses them (so a change to one
 * side that the other does not know fails loudly, in a test).
 */
import { z } from 'zod';
import {
  BATCH_PURPOSES,
  BATCH_STATES,
  closingSchema,
  consolidationSchema,
  dispatchSummarySchema,
  playerCompletionSchema,
  playerOutcomeSchema,
} from '../batch/batch-record.js';

export const progressSchema = z.object({
  batch_id: z.string(),
  game_date: z.string(),
  state: z.enum(BATCH_STATES),
  expected: z.number().int(),
  completed: z.number().int(),
  /** Players that will get no prediction from this batch because something failed (publish, worker, dead letter). */
  failed: z.number().int(),
  remaining: z.number().int(),
  percent: z.number(),
  total_predictions: z.number().int(),
  elapsed_seconds: z.number(),
  completions_per_second: z.number().nullable(),
  eta_seconds: z.number().nullable(),
});

/** One candidate: its dispatch outcome and, once it reported, what the worker did. */
export const playerStatusSchema = playerOutcomeSchema.extend({ completion: playerCompletionSchema.nullable() });
export type PlayerStatus = z.infer<typeof playerStatusSchema>;

export const batchStatusSchema = z.object({
  status: z.enum(BATCH_STATES),
  batch_id: z.string(),
  game_date: z.string(),
  correlation_id: z.string(),
  dataset_prefix: z.string(),
  prediction_run_mode: z.string(),
  requested_run_mode: z.string(),
  purpose: z.enum(BATCH_PURPOSES),
  trigger_source: z.string(),
  progress: progressSchema,
  started_at: z.string(),
  dispatched_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  /** Ended, phase-5 message published and run-history row written. */
  closed: z.boolean(),
  error: z.string().nullable(),
  superseded_by: z.string().nullable(),
  parent_batch_id: z.string().nullable(),
  summary: dispatchSummarySchema.nullable(),
  consolidation: consolidationSchema.nullable(),
  closing: closingSchema.nullable(),
  players: z.array(playerStatusSchema).optional(),
});
export type BatchStatus = z.infer<typeof batchStatusSchema>;

export const activeBatchesSchema = z.object({
  status: z.enum(['in_progress', 'no_active_batch']),
  batches: z.array(progressSchema),
});
export type ActiveBatches = z.infer<typeof activeBatchesSchema>;
