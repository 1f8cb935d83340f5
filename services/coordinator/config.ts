/** The coordinator's one configuration schema. */
import { z } from 'zod';
import { commonEnv, parseEnv } from '../../shared/config/common.js';

export const coordinatorConfigSchema = z.object({
  ...commonEnv,
  COORDINATOR_API_KEY: z.string().min(16, 'must be at least 16 characters'),
  BATCH_STORE: z.enum(['local']).default('local'),
  BUS: z.enum(['local']).default('local'),
  /** Where the local bus pushes requests (the worker's /predict) — embedded default only. */
  WORKER_PUSH_URL: z.url().optional(),
  LEASE_TTL_SECONDS: z.coerce.number().int().min(60).default(1800),
  PUBLISH_CHUNK_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  OUTPUT_DATASET: z.string().default('nba_predictions'),
});

export type CoordinatorConfig = z.infer<typeof coordinatorConfigSchema>;

export function loadCoordinatorConfig(env: Record<string, string | undefined>): CoordinatorConfig {
  return parseEnv(coordinatorConfigSchema, env, 'coordinator');
}
