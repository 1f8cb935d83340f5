/**
 * Configuration pieces both services share. Each service has ONE zod schema (services/<svc>/config.ts) built from these,
 * parsed once at boot from the environment; nothing else reads process.env.
 */
import { z } from 'zod';
import { TOPICS } from '../contracts/messages.js';

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

export const commonEnv = {
  LOG_LEVEL: logLevel,
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  GCP_PROJECT_ID: z.string().min(1).optional(),
  K_REVISION: z.string().optional(),
  /** Embedded default: DuckDB (`bigquery` arrives with the Google adapters). */
  WAREHOUSE: z.enum(['duckdb']).default('duckdb'),
  DUCKDB_PATH: z.string().default('.local/warehouse.duckdb'),
  /** Appended to every topic name, e.g. `-prod`. */
  TOPIC_SUFFIX: z.string().regex(/^[a-z0-9-]*$/).default(''),
};

export function topicNames(suffix: string): { request: string; ready: string; phase5: string } {
  return {
    request: `${TOPICS.predictionRequest}${suffix}`,
    ready: `${TOPICS.predictionReady}${suffix}`,
    phase5: TOPICS.phase5Complete,
  };
}

/** Parses `env` with `schema`; on failure, one error naming every bad variable. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>, service: string): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`).join('; ');
    throw new Error(`${service} configuration is invalid: ${problems}`);
  }
  return parsed.data;
}
