/** The worker's one configuration schema. */
import { z } from 'zod';
import { adapterChoice, commonEnv, parseEnv, requireLocationFor, requireProjectFor } from '../../shared/config/common.js';
import { pushAuthEnv, refinePushAuth } from '../../shared/config/auth-env.js';

export const workerConfigSchema = z.object({
  ...commonEnv,
  /** Unset: `pubsub` when GCP_PROJECT_ID is set, `local` otherwise. */
  BUS: z.enum(['local', 'pubsub']).optional(),
  /** Unset: `gcs` (gs:// and file URIs) when GCP_PROJECT_ID is set, `file` otherwise. */
  MODEL_STORE: z.enum(['file', 'gcs']).optional(),
  /** Where the local bus pushes completions (the coordinator's /complete) — embedded default only. */
  COORDINATOR_PUSH_URL: z.url().optional(),
  MODEL_STORE_ROOT: z.string().default('.local/models'),
  /** onnxruntime threads per session; with several requests in flight, 1 keeps the cores for concurrency. */
  ORT_INTRA_OP_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  FEATURE_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(300),
  /** `/predict`: Pub/Sub push OIDC tokens (docs/security.md). */
  ...pushAuthEnv,
})
  .superRefine((cfg, ctx) => {
    refinePushAuth(cfg, ctx);
    requireProjectFor(cfg, { WAREHOUSE: cfg.WAREHOUSE ?? '', BUS: cfg.BUS ?? '' }, ['bigquery', 'pubsub'], ctx);
    requireLocationFor(cfg, adapterChoice(cfg.WAREHOUSE, cfg.GCP_PROJECT_ID, 'bigquery', 'duckdb'), ctx);
  })
  .transform((cfg) => ({
    ...cfg,
    WAREHOUSE: adapterChoice(cfg.WAREHOUSE, cfg.GCP_PROJECT_ID, 'bigquery', 'duckdb'),
    BUS: adapterChoice(cfg.BUS, cfg.GCP_PROJECT_ID, 'pubsub', 'local'),
    MODEL_STORE: adapterChoice(cfg.MODEL_STORE, cfg.GCP_PROJECT_ID, 'gcs', 'file'),
  }));

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  return parseEnv(workerConfigSchema, env, 'worker');
}
