/**
 * Message contracts between the services, as zod schemas (design §5). One definition each; both sides parse with it.
 */
import { z } from 'zod';
import { FEATURE_NAMES, type FeatureName } from './feature-contract.js';
import { DATASET_PREFIX_PATTERN } from '../ports/warehouse.js';
import { isoDateSchema } from '../dates/game-date.js';
import { COMPLETION_KINDS, PHASE5_STATUSES, type Phase5Status } from '../batch/batch-record.js';

export { PHASE5_STATUSES, type Phase5Status };
import { errorMessage } from '../errors/error-message.js';

export const TOPICS = {
  predictionRequest: 'prediction-request',
  predictionReady: 'prediction-ready',
  /** The consolidation step: one message per finished batch, pushed to the coordinator's /consolidate. */
  consolidate: 'prediction-consolidate',
  phase5Complete: 'nba-phase5-predictions-complete',
  /** Upstream asks for a regeneration here (the original's topic, pushed to the coordinator's /regenerate-pubsub). */
  predictionTrigger: 'nba-prediction-trigger',
  /** /health/deep publishes one probe here (no subscription: Pub/Sub keeps nothing) to prove the bus takes messages. */
  health: 'prediction-health',
} as const;

const isoDate = isoDateSchema;

export const LINE_SOURCES = ['ACTUAL_PROP', 'NO_PROP_LINE'] as const;
export const LINE_SOURCE_APIS = ['ODDS_API', 'BETTINGPROS'] as const;

const featureValuesSchema = z
  .record(z.string(), z.number().nullable())
  .superRefine((values, ctx) => {
    for (const key of Object.keys(values)) {
      if (!(FEATURE_NAMES as readonly string[]).includes(key))
        ctx.addIssue({ code: 'custom', message: `unknown feature '${key}'`, path: [key] });
    }
  })
  .transform((values) => {
    const out: Partial<Record<FeatureName, number>> = {};
    for (const [k, v] of Object.entries(values)) if (v !== null) out[k as FeatureName] = v;
    return out;
  });

/** The feature-store quality fields the coordinator ships with the values. */
export const featureQualitySchema = z.object({
  feature_quality_score: z.number().nullable(),
  is_quality_ready: z.boolean().nullable(),
  quality_alert_level: z.string().nullable(),
  matchup_quality_pct: z.number().nullable(),
  default_feature_count: z.number().int().nullable(),
  required_default_count: z.number().int().nullable(),
  vegas_line_source: z.string().nullable(),
  /** Store indices of the features the store defaulted (written on every row; absent → []). */
  default_feature_indices: z.array(z.number().int()).optional(),
});
export type FeatureQuality = z.infer<typeof featureQualitySchema>;

/** One player's part of a prediction request: the game, the line with its provenance, and the feature values. */
export const playerRequestSchema = z.object({
  game_id: z.string().min(1),
  player_lookup: z.string().min(1),
  team_abbr: z.string().nullable().default(null),
  opponent_team_abbr: z.string().nullable().default(null),
  is_home: z.boolean().nullable().default(null),
  /** One value normally; ±2 around the base when multi-line is on; `[null]` for NO_PROP_LINE. */
  line_values: z.array(z.number().nullable()).min(1),
  line_source: z.enum(LINE_SOURCES),
  line_source_api: z.enum(LINE_SOURCE_APIS).nullable(),
  sportsbook: z.string().nullable(),
  was_line_fallback: z.boolean(),
  line_minutes_before_game: z.number().int().nullable(),
  /** Feature values from the store (absent → the worker loads them itself). */
  features: featureValuesSchema.optional(),
  feature_quality: featureQualitySchema.optional(),
  /** The feature-store row's own `days_rest` column, shipped with `features`: it overrides feature 39 (NULL → 1). */
  days_rest: z.number().int().nullable().optional(),
  /** From the context table (the registry's id); written on every row. */
  universal_player_id: z.string().nullable().optional(),
  /** The player's latest points_avg_last_5 rounded to the nearest 0.5: a reference line written on every row. */
  estimated_line_value: z.number().nullable().optional(),
  /** The coordinator's injury re-check (nba_raw.nbac_injury_report, once per batch): absent means not checked. */
  injury_status: z.string().nullable().optional(),
  injury_flag: z.boolean().nullable().optional(),
  injury_reason: z.string().nullable().optional(),
  injury_checked_at: z.string().nullable().optional(),
});
export type PlayerRequest = z.infer<typeof playerRequestSchema>;
export type PlayerRequestInput = z.input<typeof playerRequestSchema>;

/** A message carries at most this many players (a few kB each: far below Pub/Sub's 10 MB and the push body limit). */
export const MAX_PLAYERS_PER_MESSAGE = 200;

const PLAYER_FIELDS = Object.keys(playerRequestSchema.shape);

/**
 * A message of one player, as operators wrote them by hand before messages carried several (fields at the top level), is
 * read as a message with that one player.
 */
function wrapSinglePlayer(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'players' in value || !('player_lookup' in value))
    return value;
  const top: Record<string, unknown> = {};
  const player: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) (PLAYER_FIELDS.includes(k) ? player : top)[k] = v;
  return { ...top, players: [player] };
}

export const predictionRequestSchema = z.preprocess(
  wrapSinglePlayer,
  z.object({
    batch_id: z.string().min(1),
    correlation_id: z.string().min(1),
    game_date: isoDate,
    /** The mode as requested at /start (e.g. OVERNIGHT), written on every row; the gate used its normalised form. */
    prediction_run_mode: z.string().default('OVERNIGHT'),
    /** '' (production datasets) or a validated prefix: it ends up in table names. */
    dataset_prefix: z
      .union([z.literal(''), z.string().regex(DATASET_PREFIX_PATTERN, 'must be empty or match ^[a-z][a-z0-9_]{0,29}$')])
      .default(''),
    players: z.array(playerRequestSchema).min(1).max(MAX_PLAYERS_PER_MESSAGE),
  }),
);
export type PredictionRequest = z.infer<typeof predictionRequestSchema>;
export type PredictionRequestInput = z.input<typeof predictionRequestSchema>;

/** One player of a request with the request's batch fields: what the worker predicts and writes a player's rows from. */
export type PlayerJob = Omit<PredictionRequest, 'players'> & PlayerRequest;

export function playerJobs(req: PredictionRequest): PlayerJob[] {
  const { players, ...batch } = req;
  return players.map((p) => ({ ...batch, ...p }));
}

/** One player's outcome in a completion event (shared/batch: PlayerCompletion). */
export const playerCompletionEventSchema = z.object({
  player_lookup: z.string().min(1),
  kind: z.enum(COMPLETION_KINDS),
  predictions: z.number().int().min(0),
  /** Staging rows the worker wrote for this player (what consolidation expects to find). */
  staged_rows: z.number().int().min(0),
  /** Why no rows were written: a skip's or a failure's reason. */
  reason: z.string().nullable().default(null),
});

/** A completion of one player, as workers sent them before messages carried several, is read as a list of one. */
function wrapSingleCompletion(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'players' in value || !('player_lookup' in value))
    return value;
  const v = value as Record<string, unknown>;
  const predictions = typeof v.predictions_generated === 'number' ? v.predictions_generated : 0;
  const reason = typeof v.skip_reason === 'string' ? v.skip_reason : null;
  const { player_lookup, predictions_generated: _p, skip_reason: _s, ...rest } = v;
  return {
    ...rest,
    players: [{ player_lookup, kind: reason === null ? 'predicted' : 'skipped', predictions, staged_rows: predictions, reason }],
  };
}

export const completionEventSchema = z.preprocess(
  wrapSingleCompletion,
  z.object({
    batch_id: z.string().min(1),
    correlation_id: z.string().nullable().default(null),
    game_date: isoDate,
    players: z.array(playerCompletionEventSchema).min(1).max(MAX_PLAYERS_PER_MESSAGE),
    timestamp: z.string(),
    worker_instance: z.string().nullable().default(null),
  }),
);
export type CompletionEvent = z.infer<typeof completionEventSchema>;

/** The consolidation step's trigger (topic `prediction-consolidate`, pushed to the coordinator's `/consolidate`). */
export const consolidateRequestSchema = z.object({
  batch_id: z.string().min(1).max(128),
  /** What finished the batch: `completions`, `dispatch`, `stalled`, `check_stalled`, … (logged). */
  reason: z.string().max(200).default('unknown'),
});
export type ConsolidateRequest = z.infer<typeof consolidateRequestSchema>;

/** A regeneration's reason, written on every row it supersedes and on its audit row: a short token. */
export const regenerationReasonSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'expected a short token: letters, digits, _ . : - (at most 64)');
/** A regeneration's metadata: a JSON object of at most 16 KiB. */
export const regenerationMetadataSchema = z
  .record(z.string(), z.unknown())
  .refine((m) => JSON.stringify(m).length <= 16_384, 'metadata is larger than 16 KiB of JSON');

/**
 * `nba-prediction-trigger` (upstream → the coordinator's /regenerate-pubsub): regenerate a date, the original's message.
 * Any `mode` but `regenerate_with_supersede` can never succeed (a poison message: acked and logged).
 */
export const regenerationTriggerSchema = z.object({
  game_date: z.string().min(1).max(32),
  reason: regenerationReasonSchema.default('pubsub_trigger'),
  mode: z.literal('regenerate_with_supersede').default('regenerate_with_supersede'),
  metadata: regenerationMetadataSchema.default({}),
});
export type RegenerationTrigger = z.infer<typeof regenerationTriggerSchema>;

export const phase5MessageSchema = z.object({
  processor_name: z.literal('PredictionCoordinator'),
  phase: z.literal('phase_5_predictions'),
  execution_id: z.string(),
  correlation_id: z.string(),
  game_date: isoDate,
  output_table: z.literal('player_prop_predictions'),
  output_dataset: z.string(),
  status: z.enum(PHASE5_STATUSES),
  record_count: z.number().int(),
  records_failed: z.number().int(),
  timestamp: z.string(),
  duration_seconds: z.number(),
  trigger_source: z.string(),
  metadata: z.object({
    batch_id: z.string(),
    expected_players: z.number().int(),
    completed_players: z.number().int(),
    /** Players that will get no prediction from this batch because something failed (publish, worker, dead letter). */
    failed_players: z.number().int(),
    total_predictions: z.number().int(),
    /** Players completed, as the original named it (its consumer reads this name; equal to completed_players). */
    completed_predictions: z.number().int(),
    rows_merged: z.number().int(),
    /** Staged rows the workers reported that never became visible to the merge. */
    missing_rows: z.number().int(),
    completion_pct: z.number(),
    /** Why the status is what it is (empty reasons never accompany anything but success). */
    reasons: z.array(z.string()),
    superseded_by: z.string().nullable(),
  }),
});
export type Phase5Message = z.infer<typeof phase5MessageSchema>;

/** Pub/Sub push envelope (wrapped delivery). */
export const pushEnvelopeSchema = z.object({
  message: z.object({
    data: z.string().min(1),
    attributes: z.record(z.string(), z.string()).optional(),
    messageId: z.string().optional(),
    message_id: z.string().optional(),
    publishTime: z.string().optional(),
  }),
  subscription: z.string().optional(),
  deliveryAttempt: z.number().int().optional(),
});

export type DecodedPush<T> =
  | {
      ok: true;
      messageId: string | undefined;
      data: T;
      attributes: Record<string, string>;
      publishTime: string | undefined;
      deliveryAttempt: number | undefined;
    }
  | { ok: false; error: string };

/** Decodes a push body: envelope shape, base64, JSON, then `schema`. Every failure names what was wrong. */
export function decodePush<T>(body: unknown, schema: z.ZodType<T>): DecodedPush<T> {
  const env = pushEnvelopeSchema.safeParse(body);
  if (!env.success) return { ok: false, error: `invalid push envelope: ${formatZodError(env.error)}` };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(env.data.message.data, 'base64').toString('utf8'));
  } catch (err) {
    return { ok: false, error: `message.data is not base64 JSON: ${errorMessage(err)}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, error: `invalid message: ${formatZodError(parsed.error)}` };
  const t = env.data.message.publishTime;
  return {
    ok: true,
    messageId: env.data.message.messageId ?? env.data.message.message_id,
    data: parsed.data,
    attributes: env.data.message.attributes ?? {},
    publishTime: t !== undefined && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : undefined,
    deliveryAttempt: env.data.deliveryAttempt,
  };
}

/** `field.path: message; other: message` — names every offending field. */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(body)';
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}
