/**
 * The body of `POST /start`, validated strictly: unknown fields and wrong types are 400s naming the field. The fields the
 * original accepted from its callers are accepted: the Phase-4→5 Cloud Function posts `trigger_source` (and may post
 * `parent_processor`, `min_minutes`); `min_minutes` is accepted and ignored, as the original's query made it a no-op.
 */
import { z } from 'zod';
import { DATASET_PREFIX_PATTERN } from '../../../shared/ports/warehouse.js';
import { RUN_MODES, LEGACY_RUN_MODES, parseRunMode, type RunMode } from './run-modes.js';
import type { BatchPurpose, SupersedeSpec } from '../../../shared/batch/batch-record.js';

export const startBodySchema = z
  .object({
    game_date: z.string().optional(),
    force: z.boolean().default(false),
    prediction_run_mode: z
      .string()
      .optional()
      .superRefine((value, ctx) => {
        if (value !== undefined && parseRunMode(value) === undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown mode '${value}'; expected one of ${[...RUN_MODES, ...Object.keys(LEGACY_RUN_MODES)].join(', ')}`,
          });
        }
      }),
    require_real_lines: z.boolean().default(false),
    use_multiple_lines: z.boolean().default(false),
    dataset_prefix: z.string().regex(DATASET_PREFIX_PATTERN, 'must match ^[a-z][a-z0-9_]{0,29}$').optional(),
    correlation_id: z.string().min(1).max(128).optional(),
    skip_completeness_check: z.boolean().default(false),
    skip_postponement_check: z.boolean().default(false),
    player_lookups: z.array(z.string().min(1)).min(1).max(1000).optional(),
    /** Who triggered the run (e.g. the Phase-4→5 function); recorded on the batch and in the run history. */
    trigger_source: z.string().min(1).max(128).optional(),
    /** The upstream processor that triggered the run; recorded on the batch and in the run history. */
    parent_processor: z.string().min(1).max(128).optional(),
    /** Accepted and ignored: in the original its filter was implied by another clause of the player query (a no-op). */
    min_minutes: z.number().min(0).optional(),
  })
  .strict();

export type StartBody = z.infer<typeof startBodySchema>;

export interface StartRequest {
  gameDateInput: string | undefined;
  force: boolean;
  requestedMode: RunMode;
  /**
   * The mode as asked for, written on every row (the original wrote the requested name, e.g. OVERNIGHT, and EARLY when
   * require_real_lines forced it); the gate uses `requestedMode`'s normalised form.
   */
  runModeLabel: string;
  purpose: BatchPurpose;
  triggerSource: string;
  parentProcessor: string | null;
  parentBatchId?: string;
  /** A re-prediction: its merge supersedes the players' active rows (and the gate does not skip players already predicted). */
  supersede?: SupersedeSpec;
  requireRealLines: boolean;
  useMultipleLines: boolean;
  datasetPrefix: string;
  correlationId: string | undefined;
  skipCompletenessCheck: boolean;
  skipPostponementCheck: boolean;
  playerLookups: string[] | undefined;
}

/** The original's default mode name when none is given. */
export const DEFAULT_RUN_MODE_LABEL = 'OVERNIGHT';

export function toStartRequest(body: StartBody): StartRequest {
  return {
    gameDateInput: body.game_date,
    force: body.force,
    requestedMode: body.prediction_run_mode === undefined ? 'RETRY' : (parseRunMode(body.prediction_run_mode) as RunMode),
    runModeLabel: body.require_real_lines ? 'EARLY' : (body.prediction_run_mode?.trim().toUpperCase() ?? DEFAULT_RUN_MODE_LABEL),
    purpose: 'daily',
    triggerSource: body.trigger_source ?? 'api',
    parentProcessor: body.parent_processor ?? null,
    requireRealLines: body.require_real_lines,
    useMultipleLines: body.use_multiple_lines,
    datasetPrefix: body.dataset_prefix ?? '',
    correlationId: body.correlation_id,
    skipCompletenessCheck: body.skip_completeness_check,
    skipPostponementCheck: body.skip_postponement_check,
    playerLookups: body.player_lookups,
  };
}
