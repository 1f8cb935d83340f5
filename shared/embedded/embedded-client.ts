/**
 * The worker's side of the embedded host (embedded-host.ts): a Warehouse, a Bus and a batch reader that call the
 * coordinator's process over loopback HTTP. A host that does not answer (restarting) is a retryable failure, as a
 * BigQuery or Pub/Sub outage would be: the request is redelivered once the host is back.
 */
import {
  WarehouseError,
  type InsertRequest,
  type Query,
  type QueryResult,
  type Row,
  type TransactionResult,
  type Warehouse,
  type WarehouseErrorCode,
} from '../ports/warehouse.js';
import type { Bus, OutgoingMessage, PublishOutcome } from '../ports/bus.js';
import type { BatchRecord } from '../batch/batch-record.js';
import { parseBatchRecord } from '../batch/batch-record.js';
import { BatchStoreError } from '../ports/batch-store.js';
import { errorMessage } from '../errors/error-message.js';
import { EMBEDDED_PATH, type WireError } from './embedded-host.js';

const TIMEOUT_MS = 120_000;

async function call(base: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${EMBEDDED_PATH}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

export class RemoteWarehouse implements Warehouse {
  constructor(private readonly base: string) {}

  async query(q: Query): Promise<Row[]> {
    return (await this.queryWithWarnings(q)).rows;
  }

  queryWithWarnings(q: Query): Promise<QueryResult> {
    return this.post(q.name, '/warehouse/query', q) as Promise<QueryResult>;
  }

  async insert(req: InsertRequest): Promise<void> {
    await this.post(req.name, '/warehouse/insert', req);
  }

  transaction(name: string, statements: Query[]): Promise<TransactionResult> {
    return this.post(name, '/warehouse/transaction', { name, statements }) as Promise<TransactionResult>;
  }

  async close(): Promise<void> {}

  private async post(name: string, path: string, body: unknown): Promise<unknown> {
    let answer;
    try {
      answer = await call(this.base, 'POST', path, body);
    } catch (err) {
      throw new WarehouseError(name, `the embedded host at ${this.base} did not answer: ${errorMessage(err)}`, 'QUERY_FAILED', {
        retryable: true,
        cause: err,
      });
    }
    if (answer.status >= 200 && answer.status < 300) return answer.json;
    const e = (answer.json ?? {}) as Partial<WireError>;
    throw new WarehouseError(
      e.queryName ?? name,
      e.message ?? `embedded host answered ${answer.status}`,
      (e.code as WarehouseErrorCode | undefined) ?? 'QUERY_FAILED',
      { retryable: e.retryable ?? answer.status >= 500 },
    );
  }
}

export class RemoteBus implements Bus {
  constructor(private readonly base: string) {}

  async publish(topic: string, messages: OutgoingMessage[]): Promise<PublishOutcome[]> {
    try {
      const answer = await call(this.base, 'POST', '/bus/publish', { topic, messages });
      if (answer.status === 200 && Array.isArray(answer.json)) return answer.json as PublishOutcome[];
      const e = (answer.json ?? {}) as Partial<WireError>;
      return messages.map(() => ({
        ok: false as const,
        error: e.message ?? `embedded host answered ${answer.status}`,
        retryable: answer.status >= 500,
      }));
    } catch (err) {
      return messages.map(() => ({
        ok: false as const,
        error: `the embedded host at ${this.base} did not answer: ${errorMessage(err)}`,
        retryable: true,
      }));
    }
  }

  async close(): Promise<void> {}
}

export class RemoteBatchReader {
  constructor(private readonly base: string) {}

  async getBatch(batchId: string): Promise<BatchRecord | null> {
    let answer;
    try {
      answer = await call(this.base, 'GET', `/batches/${encodeURIComponent(batchId)}`);
    } catch (err) {
      throw new BatchStoreError('getBatch', `the embedded host at ${this.base} did not answer: ${errorMessage(err)}`, {
        retryable: true,
        cause: err,
      });
    }
    if (answer.status !== 200)
      throw new BatchStoreError('getBatch', `embedded host answered ${answer.status}`, { retryable: answer.status >= 500 });
    const batch = (answer.json as { batch?: unknown } | undefined)?.batch ?? null;
    return batch === null ? null : parseBatchRecord(batch, `embedded host batch ${batchId}`);
  }
}
