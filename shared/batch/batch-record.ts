/**
 * The batch record: one typed shape (a zod schema, so every store validates what it reads back) for a batch's identity,
 * state, counts, dispatch summary, consolidation result and closing (phase-5 message and run-history row). The state
 * machine that changes it is batch-machine.ts; both BatchStore adapters persist it as JSON and apply that machine inside
 * their own transactions.
 */
import { z } from 'zod';

/** The phase-5 message's status: what downstream learns of a batch's end. */
export const PHASE5_STATUSES = ['success', 'partial', 'failed', 'no_data'] as const;
export type Phase5Status = (typeof PHASE5_STATUSES)[number];

export const BATCH_STATES = ['dispatching', 'running', 'consolidating', 'complete', 'partial', 'failed', 'superseded'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

/** States a batch never leaves. */
export const ENDED_STATES: readonly BatchState[] = ['complete', 'partial', 'failed', 'superseded'];
export const isEnded = (state: BatchState): boolean => ENDED_STATES.includes(state);
/**
 * Whether a batch still counts completions — and so whether a prediction request of it is worth running. Once it is
 * consolidating (every player reported, or `/check-stalled` completed it as it stood) or ended, no completion counts again.
 */
export const takesCompletions = (state: BatchState): boolean => state === 'dispatching' || state === 'running';

/** Why a batch exists: the daily run and backfills, or one of the day's re-predictions. */
export const BATCH_PURPOSES = ['daily', 'line_check', 'line_update', 'regeneration', 'redrive'] as const;
export type BatchPurpose = (typeof BATCH_PURPOSES)[number];

const count = z.number().int().nonnegative();
const counts = z.record(z.string(), z.number());

/**
 * What dispatch found and did. `outcome` says how dispatch ended — or, while it runs, how far it got: `planned` (every
 * candidate's outcome is recorded and nothing is published yet: a dispatch that dies now published nothing, so it fails
 * and frees its date) and then `publishing` (requests may be on the bus: a dispatch that dies now is finished from its plan).
 */
export const dispatchSummarySchema = z.object({
  outcome: z.enum([
    'planned',
    'publishing',
    'dispatched',
    'no_games_scheduled',
    'no_players',
    'data_incomplete',
    'nothing_published',
    'dispatch_failed',
  ]),
  game_date: z.string(),
  run_mode: z.string(),
  requested_mode: z.string(),
  dataset_prefix: z.string(),
  games: count,
  /** Games the context table has for the date (an empty schedule with context rows is predicted, with a warning). */
  context_games: count.default(0),
  completeness: z
    .object({
      checked: z.boolean(),
      lookback_days: count,
      final_games: count,
      analysed_games: count,
      coverage_pct: z.number().nullable(),
    })
    .nullable(),
  /** Candidate players loaded, before any gate. */
  candidates: count,
  /** Players the gate let through (the prediction requests built). */
  total_requests: count,
  /** Players whose request the bus accepted. */
  published: count,
  /** Players whose request the bus refused: they are failed players of the batch. */
  publish_failed: count,
  /** Request messages published (several players per message). */
  messages: count,
  lines: z.object({ by_source: counts, by_sportsbook: counts, no_line_reasons: counts }).nullable(),
  gate: z.object({ by_outcome: counts, by_reason: counts, per_model: z.record(z.string(), counts) }).nullable(),
  models: z.object({ champion: z.string().nullable(), systems: z.array(z.string()) }).nullable(),
  warnings: z.array(z.string()),
  warehouse_queries: count,
  phase_ms: counts,
  /** Set when `/check-stalled` completed the batch as it stood. */
  stall_reason: z.string().nullable().default(null),
});
export type DispatchSummary = z.infer<typeof dispatchSummarySchema>;

export const postChecksSchema = z.object({
  champion: z.string(),
  rows: count,
  avg_bias: z.number().nullable(),
  over_pct: z.number().nullable(),
  under_pct: z.number().nullable(),
  direction_mismatches: count,
  warnings: z.array(z.string()),
});
export type PostChecks = z.infer<typeof postChecksSchema>;

/** Consolidation: verify the staged rows are visible, merge them once, account for every one. */
export const consolidationSchema = z.object({
  /** Attempts of the consolidation step (a redelivery or a `/check-stalled` pick-up adds one). */
  attempts: count,
  started_at: z.string(),
  last_attempt_at: z.string(),
  /** Before the merge: staged rows the workers reported vs. distinct staged prediction ids the warehouse shows. */
  verify: z
    .object({
      reported_rows: count,
      visible_rows: count,
      missing_rows: count,
      waited_ms: count,
      checks: count,
    })
    .nullable(),
  /** The merge's result, once it committed. */
  merge: z
    .object({
      rows_merged: count,
      rows_deactivated: count,
      /** After the merge: rows of this batch now active in player_prop_predictions (must equal the staged ids). */
      rows_accounted: count,
      /** Re-prediction batches: older active rows this batch's merge superseded (marked `superseded`, made inactive). */
      rows_superseded: count.default(0),
      committed_at: z.string(),
    })
    .nullable(),
  duplicate_active_keys: count.nullable(),
  checks: postChecksSchema.nullable(),
  /** Warnings the warehouse reported on the verification, merge and checks (BigQuery job warnings). */
  warnings: z.array(z.string()),
  /** The last attempt's failure, when one failed (a later attempt may still succeed). */
  error: z.string().nullable(),
  ms: count,
});
export type ConsolidationRecord = z.infer<typeof consolidationSchema>;

/**
 * For a re-prediction (line check, line update, regeneration): what its merge writes on the rows it supersedes, and when it
 * was asked for (a regeneration's audit row). The superseding happens inside the merge's own transaction.
 */
export const supersedeSchema = z.object({
  reason: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  requested_at: z.string(),
  /** A regeneration writes one row to prediction_regeneration_audit in the same transaction; `triggered_by` goes on it. */
  audit: z.object({ triggered_by: z.string() }).nullable(),
});
export type SupersedeSpec = z.infer<typeof supersedeSchema>;

/** How the batch ended, and whether its phase-5 message and run-history row are written. */
export const closingSchema = z.object({
  phase5_status: z.enum(PHASE5_STATUSES),
  /** Why the batch ended as it did (problems, or `all N players predicted`). */
  reasons: z.array(z.string()),
  phase5_message_id: z.string().nullable(),
  phase5_error: z.string().nullable(),
  phase5_published_at: z.string().nullable(),
  run_recorded_at: z.string().nullable(),
  run_error: z.string().nullable(),
});
export type Closing = z.infer<typeof closingSchema>;

export const batchRecordSchema = z.object({
  batch_id: z.string(),
  game_date: z.string(),
  correlation_id: z.string(),
  dataset_prefix: z.string(),
  /** The mode the run uses (after require_real_lines and the backfill rule). */
  prediction_run_mode: z.string(),
  /** The mode the caller asked for, as written on prediction rows. */
  requested_run_mode: z.string(),
  purpose: z.enum(BATCH_PURPOSES),
  /** Who asked (`/start`'s trigger_source, else `api`), and the upstream processor that did, for the run history. */
  trigger_source: z.string(),
  parent_processor: z.string().nullable().default(null),
  state: z.enum(BATCH_STATES),
  /** Players published. Set when dispatch ends (before that, completions are only collected). */
  expected: count,
  /** Published players that reported (whatever the outcome). */
  completed: count,
  /** Reported players that got no predictions because something failed (not a legitimate skip), dead letters included. */
  failed: count,
  /** Predictions and staging rows the workers reported writing. */
  total_predictions: count,
  staged_rows: count,
  started_at: z.string(),
  dispatched_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  updated_at: z.string(),
  summary: dispatchSummarySchema.nullable(),
  consolidation: consolidationSchema.nullable(),
  closing: closingSchema.nullable(),
  /** The batch that took this one's date over (`force`), for a superseded batch. */
  superseded_by: z.string().nullable(),
  /** For a redrive or line check: the batch whose players this one re-predicts. */
  parent_batch_id: z.string().nullable(),
  /** Line checks, line updates and regenerations: the rows its merge supersedes are marked with this. */
  supersede: supersedeSchema.nullable().default(null),
  error: z.string().nullable(),
});
export type BatchRecord = z.infer<typeof batchRecordSchema>;

/** One candidate's dispatch outcome (every candidate has exactly one). */
export const PLAYER_OUTCOMES = ['published', 'skipped', 'blocked', 'publish_failed'] as const;
export type PlayerOutcomeKind = (typeof PLAYER_OUTCOMES)[number];

export const playerOutcomeSchema = z.object({
  player_lookup: z.string(),
  game_id: z.string().nullable(),
  outcome: z.enum(PLAYER_OUTCOMES),
  /** Why: `quality_sufficient`, `already_has_prediction`, `hard_floor_red_alert`, `publish_failed: …`, … */
  reason: z.string(),
  line_source: z.string().nullable(),
  line_value: z.number().nullable(),
  sportsbook: z.string().nullable(),
});
export type PlayerOutcome = z.infer<typeof playerOutcomeSchema>;

/**
 * What became of one published player: `predicted` (rows staged), `skipped` (a legitimate permanent skip: no features,
 * injured out, no valid line), `failed` (the worker could not predict it and never will: a rejected row, every model
 * failed on a past date), `dead_lettered` (its request message exhausted its delivery attempts).
 */
export const COMPLETION_KINDS = ['predicted', 'skipped', 'failed', 'dead_lettered'] as const;
export type CompletionKind = (typeof COMPLETION_KINDS)[number];

export const playerCompletionSchema = z.object({
  player_lookup: z.string(),
  kind: z.enum(COMPLETION_KINDS),
  predictions: count,
  staged_rows: count,
  reason: z.string().nullable(),
});
export type PlayerCompletion = z.infer<typeof playerCompletionSchema>;

export const isFailure = (kind: CompletionKind): boolean => kind === 'failed' || kind === 'dead_lettered';

/** Parses stored JSON into a record, naming the source on failure (a malformed record fails loudly). */
export function parseBatchRecord(value: unknown, source: string): BatchRecord {
  const parsed = batchRecordSchema.safeParse(value);
  if (!parsed.success)
    throw new Error(
      `batch record ${source} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}
