/** The body of `POST /start`, validated strictly: unknown fields and wrong types are 400s naming the field. */
import { z } from 'zod';
import { DATASET_PREFIX_PATTERN } from '../../../shared/ports/warehouse.js';
import { RUN_MODES, LEGACY_RUN_MODES, parseRunMode, type RunMode } from './run-modes.js';

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
    dataset_prefix: z
      .string()
      .regex(DATASET_PREFIX_PATTERN, 'must match ^[a-z][a-z0-9_]{0,29}$')
      .optional(),
    correlation_id: z.string().min(1).max(128).optional(),
    skip_completeness_check: z.boolean().default(false),
    skip_postponement_check: z.boolean().default(false),
    player_lookups: z.array(z.string().min(1)).min(1).max(1000).optional(),
  })
  .strict();

export type StartBody = z.infer<typeof startBodySchema>;

export interface StartRequest {
  gameDateInput: string | undefined;
  force: boolean;
  requestedMode: RunMode;
  requireRealLines: boolean;
  useMultipleLines: boolean;
  datasetPrefix: string;
  correlationId: string | undefined;
  skipCompletenessCheck: boolean;
  skipPostponementCheck: boolean;
  playerLookups: string[] | undefined;
}

export function toStartRequest(body: StartBody): StartRequest {
  return {
    gameDateInput: body.game_date,
    force: body.force,
    requestedMode: body.prediction_run_mode === undefined ? 'RETRY' : (parseRunMode(body.prediction_run_mode) as RunMode),
    requireRealLines: body.require_real_lines,
    useMultipleLines: body.use_multiple_lines,
    datasetPrefix: body.dataset_prefix ?? '',
    correlationId: body.correlation_id,
    skipCompletenessCheck: body.skip_completeness_check,
    skipPostponementCheck: body.skip_postponement_check,
    playerLookups: body.player_lookups,
  };
}
