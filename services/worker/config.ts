/** The worker's one configuration schema. */
import { z } from 'zod';
import { commonEnv, parseEnv } from '../../shared/config/common.js';

export const workerConfigSchema = z.object({
  ...commonEnv,
  BUS: z.enum(['local']).default('local'),
  /** Where the local bus pushes completions (the coordinator's /complete) — embedded default only. */
  COORDINATOR_PUSH_URL: z.url().optional(),
  MODEL_STORE_ROOT: z.string().default('.local/models'),
  /** onnxruntime threads per session; with several requests in flight, 1 keeps the cores for concurrency. */
  ORT_INTRA_OP_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  FEATURE_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(300),
});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function loadWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  return parseEnv(workerConfigSchema, env, 'worker');
}
