/**
 * Configuration pieces both services share. Each service has ONE zod schema (services/<svc>/config.ts) built from these,
 * parsed once at boot from the environment; nothing else reads process.env.
 */
import { z } from 'zod';
import { TOPICS } from '../contracts/messages.js';
import { findDataLocation, SUPPORTED_LOCATIONS } from './locations.js';

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

export const commonEnv = {
  LOG_LEVEL: logLevel,
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  GCP_PROJECT_ID: z.string().min(1).optional(),
  K_REVISION: z.string().optional(),
  /** Set by Cloud Run (the service name); its presence means the process serves on Cloud Run. */
  K_SERVICE: z.string().min(1).optional(),
  /** Unset: `bigquery` when GCP_PROJECT_ID is set, the embedded `duckdb` otherwise. */
  WAREHOUSE: z.enum(['duckdb', 'bigquery']).optional(),
  DUCKDB_PATH: z.string().default('.local/warehouse.duckdb'),
  /**
   * Location of the BigQuery datasets and of every job (shared/config/locations.ts): required with WAREHOUSE=bigquery, so a
   * deploy that forgets it fails at boot instead of running jobs in the wrong place. Canonical form: `US`, `EU`, a region.
   */
  BIGQUERY_LOCATION: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const found = findDataLocation(v);
      if (found) return found.bigquery;
      ctx.addIssue({ code: 'custom', message: `not a supported data location: use one of ${SUPPORTED_LOCATIONS.join(', ')}` });
      return z.NEVER;
    }),
  /** Server-side limit of each BigQuery job; BigQuery cancels a job that runs longer. */
  BIGQUERY_JOB_TIMEOUT_SECONDS: z.coerce.number().int().min(10).max(21_600).default(300),
  /** Cost guard per job; 0 = no cap. */
  BIGQUERY_MAX_BYTES_BILLED: z.coerce
    .number()
    .int()
    .min(0)
    .default(50 * 1024 ** 3),
  /** Pub/Sub publisher batching window (the client's maxMilliseconds). */
  PUBSUB_BATCH_MS: z.coerce.number().int().min(0).max(1000).default(20),
  /** Appended to every topic name, e.g. `-prod`. */
  TOPIC_SUFFIX: z
    .string()
    .regex(/^[a-z0-9-]*$/)
    .default(''),
  /** How long one /health/deep check may take before it counts as failed. */
  HEALTH_CHECK_TIMEOUT_SECONDS: z.coerce.number().min(1).max(60).default(10),
  /** Crash tests only: SIGKILL this process at the named point (shared/faults/crash-points.ts). No deployment sets it. */
  CRASH_AT: z
    .string()
    .regex(/^[a-z0-9_.@,]*$/)
    .optional(),
  /**
   * Tests only: the instant (ISO 8601, e.g. `2026-03-10T17:00:00Z`) the service's clock reads at boot; it then runs at
   * real speed. A test's processes agree on "today" with the test whatever the wall clock says. No deployment sets it;
   * unset, the system clock.
   */
  CLOCK_START: z.iso.datetime({ offset: true }).optional(),
};

/** The batch store's choice and its Firestore location (the coordinator writes it; the worker reads batch states from it). */
export const batchStoreEnv = {
  /** Unset: `firestore` when GCP_PROJECT_ID is set, `local` (the embedded store) otherwise. */
  BATCH_STORE: z.enum(['local', 'firestore']).optional(),
  FIRESTORE_DATABASE: z.string().min(1).default('(default)'),
  /** Root document of the batch store's collections: one per environment. */
  FIRESTORE_ROOT: z
    .string()
    .regex(/^[A-Za-z0-9_-]+\/[A-Za-z0-9_-]+$/, 'expected collection/document, e.g. prediction-coordinator/prod')
    .default('prediction-coordinator/default'),
};

/** The local bus of the embedded default (the stand-in for Pub/Sub's push subscriptions and their retry policy). */
export const localBusEnv = {
  /** Delivery attempts before a message is dead-lettered (docs/operations.md: why 15). */
  LOCAL_BUS_MAX_DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(15),
  LOCAL_BUS_MIN_BACKOFF_MS: z.coerce.number().int().min(0).default(100),
  LOCAL_BUS_MAX_BACKOFF_MS: z.coerce.number().int().min(0).default(10_000),
  /** Concurrent pushes per subscription. */
  LOCAL_BUS_MAX_OUTSTANDING: z.coerce.number().int().min(1).max(256).default(8),
  /** How long the bus waits for pushes in flight when the process stops (the rest stay stored and are delivered later). */
  LOCAL_BUS_CLOSE_TIMEOUT_MS: z.coerce.number().int().min(0).max(8_000).default(4_000),
};

/** Unset: the Google adapter when the service runs against a GCP project, the embedded one otherwise. */
export function adapterChoice<G extends string, E extends string>(
  chosen: G | E | undefined,
  projectId: string | undefined,
  google: G,
  embedded: E,
): G | E {
  return chosen ?? (projectId ? google : embedded);
}

/** A Google adapter needs a project: refuse the combination at boot rather than fail at the first call. */
export function requireProjectFor(
  cfg: { GCP_PROJECT_ID?: string | undefined },
  choices: Record<string, string>,
  google: readonly string[],
  ctx: z.RefinementCtx,
): void {
  if (cfg.GCP_PROJECT_ID) return;
  for (const [name, value] of Object.entries(choices)) {
    if (google.includes(value)) ctx.addIssue({ code: 'custom', path: [name], message: `${name}=${value} needs GCP_PROJECT_ID` });
  }
}

/** The BigQuery warehouse needs its location (the datasets' and jobs'); the embedded one has none. */
export function requireLocationFor(cfg: { BIGQUERY_LOCATION?: string | undefined }, warehouse: string, ctx: z.RefinementCtx): void {
  if (warehouse === 'bigquery' && cfg.BIGQUERY_LOCATION === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['BIGQUERY_LOCATION'],
      message:
        'required with WAREHOUSE=bigquery: the location of the datasets and jobs, e.g. US, EU or us-west2 (setup --location, build _LOCATION)',
    });
  }
}

export interface TopicNames {
  request: string;
  ready: string;
  consolidate: string;
  phase5: string;
  /** Regeneration requests from upstream: an external contract like phase 5, so never suffixed. */
  trigger: string;
  /** /health/deep's probe topic (no subscription). */
  health: string;
}

export function topicNames(suffix: string): TopicNames {
  return {
    request: `${TOPICS.predictionRequest}${suffix}`,
    ready: `${TOPICS.predictionReady}${suffix}`,
    consolidate: `${TOPICS.consolidate}${suffix}`,
    phase5: TOPICS.phase5Complete,
    trigger: TOPICS.predictionTrigger,
    health: `${TOPICS.health}${suffix}`,
  };
}

/** A topic's dead-letter topic (setup creates it; the local bus uses the same name). */
export const deadLetterTopic = (topic: string): string => `${topic}-dlq`;

/** Parses `env` with `schema`; on failure, one error naming every bad variable. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>, service: string): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`).join('; ');
    throw new Error(`${service} configuration is invalid: ${problems}`);
  }
  return parsed.data;
}
