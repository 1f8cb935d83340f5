/** The worker's one configuration schema. */
import { z } from 'zod';
import { adapterChoice, batchStoreEnv, commonEnv, parseEnv, requireLocationFor, requireProjectFor } from '../../shared/config/common.js';
import { pushAuthEnv, refinePushAuth } from '../../shared/config/auth-env.js';

export const workerConfigSchema = z
  .object({
    ...commonEnv,
    /** Unset: `pubsub` when GCP_PROJECT_ID is set, `local` otherwise. */
    BUS: z.enum(['local', 'pubsub']).optional(),
    /** Unset: `gcs` (gs:// and file URIs) when GCP_PROJECT_ID is set, `file` otherwise. */
    MODEL_STORE: z.enum(['file', 'gcs']).optional(),
    /**
     * Embedded default, two processes: the coordinator's base URL (e.g. http://127.0.0.1:8080). Its process hosts the DuckDB
     * warehouse, the local bus and the batch store; this worker reaches them there (shared/embedded). Required when the
     * worker runs on the embedded default as a process of its own.
     */
    EMBEDDED_HOST_URL: z.url().optional(),
    ...batchStoreEnv,
    MODEL_STORE_ROOT: z.string().default('.local/models'),
    /** onnxruntime threads per session; with several requests in flight, 1 keeps the cores for concurrency. */
    ORT_INTRA_OP_THREADS: z.coerce.number().int().min(1).max(64).default(1),
    FEATURE_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(300),
    /**
     * How long a batch's `running` state read from the batch store is trusted (predict/batch-state.ts): a request that
     * arrives within this long after the batch ended may still be predicted. Fractions allowed (tests shorten it).
     */
    BATCH_STATE_TTL_SECONDS: z.coerce.number().min(0).default(5),
    /** The commit the image was built from (cloudbuild.yaml); empty (a hand-submitted build without _COMMIT) is `unknown`. */
    BUILD_COMMIT: z
      .string()
      .default('')
      .transform((v) => v.trim() || 'unknown'),
    /** `/predict`: Pub/Sub push OIDC tokens (docs/security.md). */
    ...pushAuthEnv,
  })
  .superRefine((cfg, ctx) => {
    refinePushAuth(cfg, ctx);
    requireProjectFor(
      cfg,
      { WAREHOUSE: cfg.WAREHOUSE ?? '', BUS: cfg.BUS ?? '', BATCH_STORE: cfg.BATCH_STORE ?? '' },
      ['bigquery', 'pubsub', 'firestore'],
      ctx,
    );
    requireLocationFor(cfg, adapterChoice(cfg.WAREHOUSE, cfg.GCP_PROJECT_ID, 'bigquery', 'duckdb'), ctx);
  })
  .transform((cfg) => ({
    ...cfg,
    WAREHOUSE: adapterChoice(cfg.WAREHOUSE, cfg.GCP_PROJECT_ID, 'bigquery', 'duckdb'),
    BUS: adapterChoice(cfg.BUS, cfg.GCP_PROJECT_ID, 'pubsub', 'local'),
    MODEL_STORE: adapterChoice(cfg.MODEL_STORE, cfg.GCP_PROJECT_ID, 'gcs', 'file'),
    BATCH_STORE: adapterChoice(cfg.BATCH_STORE, cfg.GCP_PROJECT_ID, 'firestore', 'local'),
  }));

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  return parseEnv(workerConfigSchema, env, 'worker');
}
