/** The coordinator's one configuration schema. */
import { z } from 'zod';
import {
  adapterChoice,
  batchStoreEnv,
  commonEnv,
  localBusEnv,
  parseEnv,
  requireLocationFor,
  requireProjectFor,
} from '../../shared/config/common.js';
import { MAX_PLAYERS_PER_MESSAGE } from '../../shared/contracts/messages.js';
import { operatorAuthEnv, pushAuthEnv, refineOperatorAuth, refinePushAuth } from '../../shared/config/auth-env.js';
import { SECRET_VERSION_PATTERN } from '../../shared/auth/auth-rules.js';

/** Unset and blank are the same thing. */
const blankIsUnset = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

export const coordinatorConfigSchema = z
  .object({
    ...commonEnv,
    ...localBusEnv,
    /** Operator endpoints: X-API-Key and/or Google ID tokens (docs/security.md). */
    ...operatorAuthEnv,
    /** `/complete`: Pub/Sub push OIDC tokens (docs/security.md). */
    ...pushAuthEnv,
    ...batchStoreEnv,
    /** Unset: `pubsub` when GCP_PROJECT_ID is set, `local` otherwise. */
    BUS: z.enum(['local', 'pubsub']).optional(),
    /**
     * Embedded default, two processes: the worker's base URL (e.g. http://127.0.0.1:8081), where the local bus pushes
     * prediction requests. The coordinator's process then hosts the warehouse, the bus and the batch store for the worker
     * (shared/embedded). Unset: no worker is pushed to (the local stack runs both services in one process instead).
     */
    WORKER_URL: z.url().optional(),
    LEASE_TTL_SECONDS: z.coerce.number().int().min(60).default(1800),
    /** Messages handed to the bus per publish call. */
    PUBLISH_CHUNK_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
    /**
     * Players per prediction request message. 64 (docs/benchmarks.md, issue 20: chunks and the K = 64 run): a warm batch in
     * 1.3–1.5× its floors against 2.3–2.8× at 16, 0.6× the CPU per backfill date; a message of 64 players is ≈ 122 KB.
     */
    PLAYERS_PER_MESSAGE: z.coerce.number().int().min(1).max(MAX_PLAYERS_PER_MESSAGE).default(64),
    OUTPUT_DATASET: z.string().default('nba_predictions'),
    /** Dates a backfill runs at once against this coordinator (GET /capacity; docs/benchmarks.md: measured on the embedded default). */
    BACKFILL_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    /**
     * The consolidation step's own deadline: it finishes well inside it or answers 5xx (retried), and a batch still
     * `consolidating` this long after its last attempt is picked up again by /check-stalled. Below the push ack deadline (600 s).
     */
    CONSOLIDATION_DEADLINE_SECONDS: z.coerce.number().int().min(30).max(590).default(540),
    /** How long consolidation waits, with backoff, for every staged row the workers reported to become visible. */
    VERIFY_WAIT_SECONDS: z.coerce.number().min(0).max(400).default(180),
    /** How long consolidation waits for the table-wide merge lock before answering 5xx (Pub/Sub redelivers later). */
    MERGE_LOCK_WAIT_SECONDS: z.coerce.number().min(0).max(120).default(20),
    /** Budget for re-running a merge a concurrent transaction cancelled (on top of the adapter's own attempts). */
    MERGE_CONFLICT_RETRY_SECONDS: z.coerce.number().min(0).max(400).default(120),
    /** Where alerts go. Unset: `slack` when a webhook is configured, the log otherwise. */
    NOTIFIER: z.enum(['log', 'slack']).optional(),
    /** A Secret Manager version whose payload is the Slack incoming-webhook URL (read on the first alert). */
    SLACK_WEBHOOK_SECRET: z
      .string()
      .optional()
      .transform(blankIsUnset)
      .pipe(
        z
          .string()
          .regex(SECRET_VERSION_PATTERN, 'must be a Secret Manager version name: projects/PROJECT/secrets/SECRET/versions/VERSION')
          .optional(),
      ),
    /** The webhook URL itself: for a local receiver (tests, a dev machine); production keeps it in Secret Manager. */
    SLACK_WEBHOOK_URL: z.string().optional().transform(blankIsUnset).pipe(z.url().optional()),
    /** Stalled batches within an hour that raise the repeated-stalls alert (the original's rule: 3). */
    STALL_ALERT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(3),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.VERIFY_WAIT_SECONDS + cfg.MERGE_LOCK_WAIT_SECONDS >= cfg.CONSOLIDATION_DEADLINE_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['VERIFY_WAIT_SECONDS'],
        message: 'VERIFY_WAIT_SECONDS + MERGE_LOCK_WAIT_SECONDS must leave time for the merge inside CONSOLIDATION_DEADLINE_SECONDS',
      });
    }
    refineOperatorAuth(cfg, ctx);
    refinePushAuth(cfg, ctx);
    requireProjectFor(
      cfg,
      { WAREHOUSE: cfg.WAREHOUSE ?? '', BUS: cfg.BUS ?? '', BATCH_STORE: cfg.BATCH_STORE ?? '' },
      ['bigquery', 'pubsub', 'firestore'],
      ctx,
    );
    requireLocationFor(cfg, adapterChoice(cfg.WAREHOUSE, cfg.GCP_PROJECT_ID, 'bigquery', 'duckdb'), ctx);
    if (cfg.NOTIFIER === 'slack' && !cfg.SLACK_WEBHOOK_SECRET && !cfg.SLACK_WEBHOOK_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['NOTIFIER'],
        message: 'NOTIFIER=slack needs SLACK_WEBHOOK_SECRET (or SLACK_WEBHOOK_URL for a local receiver)',
      });
    }
    if (cfg.SLACK_WEBHOOK_URL) {
      const u = new URL(cfg.SLACK_WEBHOOK_URL);
      const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
      if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback))
        ctx.addIssue({ code: 'custom', path: ['SLACK_WEBHOOK_URL'], message: 'must be https (http only on loopback)' });
    }
  })
  .transform((cfg) => ({
    ...cfg,
    WAREHOUSE: adapterChoice(cfg.WAREHOUSE, cfg.GCP_PROJECT_ID, 'bigquery', 'duckdb'),
    BUS: adapterChoice(cfg.BUS, cfg.GCP_PROJECT_ID, 'pubsub', 'local'),
    BATCH_STORE: adapterChoice(cfg.BATCH_STORE, cfg.GCP_PROJECT_ID, 'firestore', 'local'),
    NOTIFIER: cfg.NOTIFIER ?? (cfg.SLACK_WEBHOOK_SECRET || cfg.SLACK_WEBHOOK_URL ? 'slack' : 'log'),
  }));

export type CoordinatorConfig = z.infer<typeof coordinatorConfigSchema>;

export function loadCoordinatorConfig(env: Record<string, string | undefined>): CoordinatorConfig {
  return parseEnv(coordinatorConfigSchema, env, 'coordinator');
}
