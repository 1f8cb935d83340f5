/** The coordinator's one configuration schema. */
import { z } from 'zod';
import { adapterChoice, commonEnv, parseEnv, requireLocationFor, requireProjectFor } from '../../shared/config/common.js';
import { operatorAuthEnv, pushAuthEnv, refineOperatorAuth, refinePushAuth } from '../../shared/config/auth-env.js';

export const coordinatorConfigSchema = z.object({
  ...commonEnv,
  /** Operator endpoints: X-API-Key and/or Google ID tokens (docs/security.md). */
  ...operatorAuthEnv,
  /** `/complete`: Pub/Sub push OIDC tokens (docs/security.md). */
  ...pushAuthEnv,
  /** Unset: `firestore` when GCP_PROJECT_ID is set, `local` otherwise. */
  BATCH_STORE: z.enum(['local', 'firestore']).optional(),
  /** Unset: `pubsub` when GCP_PROJECT_ID is set, `local` otherwise. */
  BUS: z.enum(['local', 'pubsub']).optional(),
  FIRESTORE_DATABASE: z.string().min(1).default('(default)'),
  /** Root document of the batch store's collections: one per environment. */
  FIRESTORE_ROOT: z.string().regex(/^[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/, 'expected collection/document, e.g. prediction-coordinator/prod').default('prediction-coordinator/default'),
  /** Where the local bus pushes requests (the worker's /predict) — embedded default only. */
  WORKER_PUSH_URL: z.url().optional(),
  LEASE_TTL_SECONDS: z.coerce.number().int().min(60).default(1800),
  PUBLISH_CHUNK_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  OUTPUT_DATASET: z.string().default('nba_predictions'),
})
  .superRefine((cfg, ctx) => {
    refineOperatorAuth(cfg, ctx);
    refinePushAuth(cfg, ctx);
    requireProjectFor(cfg, { WAREHOUSE: cfg.WAREHOUSE ?? '', BUS: cfg.BUS ?? '', BATCH_STORE: cfg.BATCH_STORE ?? '' }, ['bigquery', 'pubsub', 'firestore'], ctx);
    requireLocationFor(cfg, adapterChoice(cfg.WAREHOUSE, cfg.GCP_PROJECT_ID, 'bigquery', 'duckdb'), ctx);
  })
  .transform((cfg) => ({
    ...cfg,
    WAREHOUSE: adapterChoice(cfg.WAREHOUSE, cfg.GCP_PROJECT_ID, 'bigquery', 'duckdb'),
    BUS: adapterChoice(cfg.BUS, cfg.GCP_PROJECT_ID, 'pubsub', 'local'),
    BATCH_STORE: adapterChoice(cfg.BATCH_STORE, cfg.GCP_PROJECT_ID, 'firestore', 'local'),
  }));

export type CoordinatorConfig = z.infer<typeof coordinatorConfigSchema>;

export function loadCoordinatorConfig(env: Record<string, string | undefined>): CoordinatorConfig {
  return parseEnv(coordinatorConfigSchema, env, 'coordinator');
}
