/**
 * Where the local bus keeps what it has accepted, so that — as with Pub/Sub — a message the bus accepted is delivered until
 * it is acked or dead-lettered, across a restart of the process. `MemoryBusStore` keeps nothing beyond the process (unit
 * tests of the bus); `DuckDbBusStore` keeps messages and their per-subscription delivery state in DuckDB tables beside the
 * batch store's (schema `embedded_state`), and forgets settled deliveries after a retention period so a season of batches
 * does not grow the file or the heap.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBListValue, LIST, VARCHAR } from '../duckdb/duckdb-api.js';
import type { DuckDbDatabase } from '../duckdb/duckdb-database.js';
import { STATE_SCHEMA } from '../local-batch-store/local-batch-store.js';

export interface StoredMessage {
  readonly topic: string;
  readonly messageId: string;
  /** Parsed copy of the serialised JSON: what a subscriber decodes. */
  readonly data: unknown;
  readonly attributes: Readonly<Record<string, string>>;
  readonly publishTime: string;
  readonly data64: string;
}

export interface PendingDelivery {
  message: StoredMessage;
  /** Attempts already made (a restart keeps counting towards the dead letter). */
  attempts: number;
}

export interface BusStore {
  /** Stores messages and one pending delivery per (message, subscription); resolves once durable. */
  append(messages: readonly StoredMessage[], subscriptionsByTopic: ReadonlyMap<string, readonly string[]>): Promise<void>;
  /** A delivery attempt failed: remember how many attempts were made. */
  recordAttempt(subscription: string, messageId: string, attempts: number, lastError: string): Promise<void>;
  /** The delivery is over: acked, or dead-lettered after its last attempt. */
  settle(subscription: string, messageId: string, outcome: 'acked' | 'dead_lettered', lastError?: string): Promise<void>;
  /** Deliveries still pending for a subscription (after a restart), oldest first. */
  pending(subscription: string): Promise<PendingDelivery[]>;
  /** The next free message id number (ids keep growing across restarts). */
  nextMessageNumber(): Promise<number>;
  close(): Promise<void>;
}

export class MemoryBusStore implements BusStore {
  private readonly deliveries = new Map<string, Map<string, PendingDelivery>>();
  async append(messages: readonly StoredMessage[], subscriptionsByTopic: ReadonlyMap<string, readonly string[]>): Promise<void> {
    for (const m of messages) {
      for (const sub of subscriptionsByTopic.get(m.topic) ?? []) {
        const map = this.deliveries.get(sub) ?? new Map<string, PendingDelivery>();
        map.set(m.messageId, { message: m, attempts: 0 });
        this.deliveries.set(sub, map);
      }
    }
  }
  async recordAttempt(subscription: string, messageId: string, attempts: number): Promise<void> {
    const d = this.deliveries.get(subscription)?.get(messageId);
    if (d) d.attempts = attempts;
  }
  async settle(subscription: string, messageId: string): Promise<void> {
    this.deliveries.get(subscription)?.delete(messageId);
  }
  async pending(subscription: string): Promise<PendingDelivery[]> {
    return [...(this.deliveries.get(subscription)?.values() ?? [])];
  }
  async nextMessageNumber(): Promise<number> {
    return 1;
  }
  async close(): Promise<void> {}
}

const MESSAGES = `${STATE_SCHEMA}.bus_messages`;
const DELIVERIES = `${STATE_SCHEMA}.bus_deliveries`;

const DDL = [
  `CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${MESSAGES} (message_number BIGINT PRIMARY KEY, message_id VARCHAR NOT NULL, topic VARCHAR NOT NULL,
     data VARCHAR NOT NULL, attributes VARCHAR NOT NULL, publish_time VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${DELIVERIES} (subscription VARCHAR NOT NULL, message_id VARCHAR NOT NULL, state VARCHAR NOT NULL,
     attempts INTEGER NOT NULL, last_error VARCHAR, settled_at_ms BIGINT, PRIMARY KEY (subscription, message_id))`,
];

export interface DuckDbBusStoreOptions {
  /** Settled deliveries and their messages are forgotten this long after settling. Default 1 hour. */
  retentionMs?: number;
  now?: () => number;
}

export class DuckDbBusStore implements BusStore {
  private tail: Promise<unknown> = Promise.resolve();
  private settledSincePrune = 0;
  private readonly retentionMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly db: DuckDbDatabase,
    opts: DuckDbBusStoreOptions,
  ) {
    this.retentionMs = opts.retentionMs ?? 3_600_000;
    this.now = opts.now ?? Date.now;
  }

  static async open(db: DuckDbDatabase, opts: DuckDbBusStoreOptions = {}): Promise<DuckDbBusStore> {
    await db.withConnection(async (conn) => {
      for (const sql of DDL) await conn.run(sql);
    });
    return new DuckDbBusStore(db, opts);
  }

  append(messages: readonly StoredMessage[], subscriptionsByTopic: ReadonlyMap<string, readonly string[]>): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return this.tx(async (conn) => {
      const appender = await conn.createAppender('bus_messages', STATE_SCHEMA);
      try {
        for (const m of messages) {
          appender.appendBigInt(BigInt(m.messageId));
          appender.appendVarchar(m.messageId);
          appender.appendVarchar(m.topic);
          appender.appendVarchar(Buffer.from(m.data64, 'base64').toString('utf8'));
          appender.appendVarchar(JSON.stringify(m.attributes));
          appender.appendVarchar(m.publishTime);
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      const deliveries = await conn.createAppender('bus_deliveries', STATE_SCHEMA);
      try {
        for (const m of messages) {
          for (const sub of subscriptionsByTopic.get(m.topic) ?? []) {
            deliveries.appendVarchar(sub);
            deliveries.appendVarchar(m.messageId);
            deliveries.appendVarchar('pending');
            deliveries.appendInteger(0);
            deliveries.appendNull();
            deliveries.appendNull();
            deliveries.endRow();
          }
        }
        deliveries.flushSync();
      } finally {
        deliveries.closeSync();
      }
    });
  }

  recordAttempt(subscription: string, messageId: string, attempts: number, lastError: string): Promise<void> {
    return this.tx(async (conn) => {
      await conn.run(`UPDATE ${DELIVERIES} SET attempts = $a, last_error = $e WHERE subscription = $s AND message_id = $m`, {
        a: attempts,
        e: lastError,
        s: subscription,
        m: messageId,
      });
    });
  }

  settle(subscription: string, messageId: string, outcome: 'acked' | 'dead_lettered', lastError?: string): Promise<void> {
    return this.tx(async (conn) => {
      await conn.run(
        `UPDATE ${DELIVERIES} SET state = $o, last_error = COALESCE($e, last_error), settled_at_ms = $t WHERE subscription = $s AND message_id = $m`,
        {
          o: outcome,
          e: lastError ?? null,
          t: BigInt(this.now()),
          s: subscription,
          m: messageId,
        },
      );
      if (++this.settledSincePrune >= 500) {
        this.settledSincePrune = 0;
        await this.prune(conn);
      }
    });
  }

  async pending(subscription: string): Promise<PendingDelivery[]> {
    return this.tx(async (conn) => {
      const reader = await conn.runAndReadAll(
        `SELECT m.message_id, m.topic, m.data, m.attributes, m.publish_time, d.attempts
         FROM ${DELIVERIES} d JOIN ${MESSAGES} m USING (message_id)
         WHERE d.subscription = $s AND d.state = 'pending' ORDER BY m.message_number`,
        { s: subscription },
      );
      return reader.getRowObjectsJS().map((r) => {
        const json = String(r.data);
        return {
          attempts: Number(r.attempts),
          message: {
            topic: String(r.topic),
            messageId: String(r.message_id),
            data: JSON.parse(json) as unknown,
            attributes: JSON.parse(String(r.attributes)) as Record<string, string>,
            publishTime: String(r.publish_time),
            data64: Buffer.from(json).toString('base64'),
          },
        };
      });
    });
  }

  nextMessageNumber(): Promise<number> {
    return this.tx(async (conn) => {
      const reader = await conn.runAndReadAll(`SELECT COALESCE(MAX(message_number), 0) + 1 AS n FROM ${MESSAGES}`);
      return Number(reader.getRowObjectsJS()[0]?.n ?? 1);
    });
  }

  /** Forgets deliveries settled longer ago than the retention, and messages no delivery still refers to. */
  private async prune(conn: DuckDBConnection): Promise<void> {
    const cutoff = BigInt(this.now() - this.retentionMs);
    await conn.run(`DELETE FROM ${DELIVERIES} WHERE state <> 'pending' AND settled_at_ms < $c`, { c: cutoff });
    const stale = await conn.runAndReadAll(
      `SELECT message_id FROM ${MESSAGES} m WHERE NOT EXISTS (SELECT 1 FROM ${DELIVERIES} d WHERE d.message_id = m.message_id)
         AND m.publish_time < $t`,
      { t: new Date(this.now() - this.retentionMs).toISOString() },
    );
    const ids = stale.getRowObjectsJS().map((r) => String(r.message_id));
    if (ids.length > 0)
      await conn.run(
        `DELETE FROM ${MESSAGES} WHERE message_id IN (SELECT unnest($ids))`,
        { ids: new DuckDBListValue(ids) },
        { ids: LIST(VARCHAR) },
      );
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
  }

  private tx<T>(work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = () => this.db.inTransaction(work);
    const next = this.tail.then(run, run);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
