/**
 * The embedded default across processes. DuckDB allows one process per database file, so when the coordinator and the
 * worker run as two processes, the coordinator's process hosts the embedded infrastructure — the DuckDB warehouse, the
 * local bus and the batch store — and the worker reaches them here, as it would reach BigQuery, Pub/Sub and Firestore: a
 * query, an append and a transaction; a publish; a read of a batch's record. Mounted only on the embedded default, and
 * only loopback callers are served (the local bus never pushes off the machine either).
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import type { Warehouse } from '../ports/warehouse.js';
import { WarehouseError } from '../ports/warehouse.js';
import type { Bus } from '../ports/bus.js';
import type { BatchStore } from '../ports/batch-store.js';
import { errorMessage } from '../errors/error-message.js';

export const EMBEDDED_PATH = '/_embedded';
const BODY_LIMIT = '32mb';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

const scalarParam = z.object({
  type: z.enum(['STRING', 'INT64', 'FLOAT64', 'NUMERIC', 'BOOL', 'DATE', 'TIMESTAMP', 'JSON']),
  value: z.union([z.string(), z.number(), z.boolean(), z.null()]),
});
const arrayParam = z.object({
  type: z.literal('ARRAY'),
  elementType: scalarParam.shape.type,
  value: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
const querySchema = z.object({
  name: z.string(),
  sql: z.string(),
  params: z.record(z.string(), z.union([arrayParam, scalarParam])).optional(),
  datasetPrefix: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
const insertSchema = z.object({
  name: z.string(),
  table: z.string(),
  rows: z.array(z.record(z.string(), z.unknown())),
  datasetPrefix: z.string().optional(),
  idColumns: z.array(z.string()).optional(),
});
const transactionSchema = z.object({ name: z.string(), statements: z.array(querySchema) });
const publishSchema = z.object({
  topic: z.string(),
  messages: z.array(z.object({ data: z.unknown(), attributes: z.record(z.string(), z.string()).optional() })),
});

export interface EmbeddedServices {
  warehouse: Warehouse;
  bus: Bus;
  batches: Pick<BatchStore, 'getBatch'>;
}

/** A port error, as the wire carries it: the client rebuilds the same WarehouseError (code, retryable). */
export interface WireError {
  kind: 'warehouse' | 'other';
  code: string;
  queryName: string;
  message: string;
  retryable: boolean;
}

function wireError(err: unknown): { status: number; body: WireError } {
  if (err instanceof WarehouseError) {
    const prefix = `${err.queryName}: `;
    return {
      status: err.retryable ? 503 : 422,
      body: {
        kind: 'warehouse',
        code: err.code,
        queryName: err.queryName,
        message: err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message,
        retryable: err.retryable,
      },
    };
  }
  return {
    status: 503,
    body: { kind: 'other', code: 'EMBEDDED_HOST_FAILED', queryName: 'embedded', message: errorMessage(err), retryable: true },
  };
}

export function embeddedHost(services: EmbeddedServices): Router {
  const router = express.Router();
  router.use((req, res, next) => {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      res.status(403).json({ status: 'error', error: 'FORBIDDEN', message: 'the embedded host serves loopback callers only' });
      return;
    }
    next();
  });
  router.use(express.json({ limit: BODY_LIMIT }));
  const handle =
    (work: (body: unknown) => Promise<unknown>): express.RequestHandler =>
    async (req, res) => {
      try {
        const result = await work(req.body);
        if (result === undefined) res.status(204).end();
        else res.json(result);
      } catch (err) {
        if (err instanceof z.ZodError) {
          res.status(400).json({
            kind: 'other',
            code: 'BAD_REQUEST',
            queryName: 'embedded',
            message: err.message,
            retryable: false,
          } satisfies WireError);
          return;
        }
        const { status, body } = wireError(err);
        res.status(status).json(body);
      }
    };
  router.post(
    '/warehouse/query',
    handle((b) => services.warehouse.queryWithWarnings(querySchema.parse(b))),
  );
  router.post(
    '/warehouse/insert',
    handle(async (b) => {
      const req = insertSchema.parse(b);
      await services.warehouse.insert({ ...req, rows: req.rows as never });
      return undefined;
    }),
  );
  router.post(
    '/warehouse/transaction',
    handle((b) => {
      const t = transactionSchema.parse(b);
      return services.warehouse.transaction(t.name, t.statements);
    }),
  );
  router.post(
    '/bus/publish',
    handle((b) => {
      const p = publishSchema.parse(b);
      return services.bus.publish(p.topic, p.messages);
    }),
  );
  router.get('/batches/:batchId', async (req, res) => {
    try {
      res.json({ batch: await services.batches.getBatch(String(req.params.batchId)) });
    } catch (err) {
      const { status, body } = wireError(err);
      res.status(status).json(body);
    }
  });
  return router;
}
