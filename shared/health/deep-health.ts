/**
 * `GET /health/deep` on both services: every dependency checked for real, side by side, each within a time limit, and
 * 503 naming the ones that failed (the original's `/health/deep`, which imported modules, ran `SELECT 1`, wrote and deleted
 * a Firestore document and created a Pub/Sub client). The probes both services share are here; each service lists its own.
 */
import { randomBytes } from 'node:crypto';
import type { Warehouse } from '../ports/warehouse.js';
import type { Bus } from '../ports/bus.js';
import type { BatchStore } from '../ports/batch-store.js';
import { errorMessage } from '../errors/error-message.js';

export type CheckDetail = Record<string, string | number | boolean | null>;

export type CheckResult = { ok: true; ms: number; detail: CheckDetail } | { ok: false; ms: number; error: string };

export interface DeepHealth {
  status: 'healthy' | 'unhealthy';
  service: string;
  timestamp: string;
  /** The checks that failed, by name (empty when healthy). */
  failed: string[];
  checks: Record<string, CheckResult>;
}

export type Check = () => Promise<CheckDetail | void>;

/** Runs the checks at once; one that throws or outlasts `timeoutMs` fails with the reason. */
export async function runChecks(
  service: string,
  checks: Record<string, Check>,
  opts: { timeoutMs: number; now: () => Date },
): Promise<DeepHealth> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const detail = await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
          }),
        ]);
        return [name, { ok: true, ms: Math.round(performance.now() - t0), detail: detail ?? {} }];
      } catch (err) {
        return [name, { ok: false, ms: Math.round(performance.now() - t0), error: errorMessage(err) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const failed = entries.filter(([, r]) => !r.ok).map(([n]) => n);
  return {
    status: failed.length === 0 ? 'healthy' : 'unhealthy',
    service,
    timestamp: opts.now().toISOString(),
    failed,
    checks: Object.fromEntries(entries),
  };
}

const REGISTRY_SQL = `
SELECT COUNT(*) AS enabled_models, COUNTIF(is_production) AS champions
FROM {{nba_predictions.model_registry}}
WHERE enabled = TRUE AND status = 'active'`;

/** A real query on a product table (the model registry both services read): the warehouse answers and the dataset is there. */
export async function warehouseProbe(warehouse: Warehouse): Promise<CheckDetail> {
  const [row] = await warehouse.query({ name: 'health.registry', sql: REGISTRY_SQL });
  return { enabled_models: Number(row?.enabled_models ?? 0), champions: Number(row?.champions ?? 0) };
}

/** One message published to the health topic (it has no subscription, so nobody receives it). */
export async function busProbe(bus: Bus, topic: string, service: string, now: Date): Promise<CheckDetail> {
  const [outcome] = await bus.publish(topic, [
    { data: { probe: 'health', service, at: now.toISOString() }, attributes: { probe: 'health' } },
  ]);
  if (!outcome) throw new Error(`no publish outcome from ${topic}`);
  if (!outcome.ok) throw new Error(`publish to ${topic} failed: ${outcome.error}`);
  return { topic, message_id: outcome.messageId };
}

/** A batch-store write and delete (an event recorded, then deleted). */
export async function batchStoreProbe(
  store: Pick<BatchStore, 'recordEvent' | 'deleteEvent'>,
  service: string,
  now: Date,
): Promise<CheckDetail> {
  const id = `health.${service}.${now.getTime()}.${randomBytes(4).toString('hex')}`;
  const recorded = await store.recordEvent({
    id,
    kind: 'health',
    at: now.toISOString(),
    expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
    data: { service },
  });
  if (!recorded) throw new Error(`the probe record ${id} already existed`);
  await store.deleteEvent(id);
  return { wrote_and_deleted: id };
}
