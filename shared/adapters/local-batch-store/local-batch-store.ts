/**
 * BatchStore for the embedded default, durable: its state lives in DuckDB tables (schema `embedded_state`, in the embedded
 * warehouse file), so a batch that was running when the process died is still there after a restart, and finishes.
 *
 * Atomicity as Firestore's transactions give it: every method is one DuckDB transaction, and this store runs them one at
 * a time (a queue), so a read and the write that depends on it never interleave with another caller's. The record itself
 * is the batch state machine's (shared/batch), stored as JSON and validated when read.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { DuckDBListValue, LIST, VARCHAR } from '../duckdb/duckdb-api.js';
import type { Clock } from '../../ports/clock.js';
import {
  BatchStoreError,
  type BatchChange,
  type BatchStore,
  type CompletionResult,
  type LeaseClaim,
  type LeaseResult,
  type StoreEvent,
  EVENT_ID_PATTERN,
} from '../../ports/batch-store.js';
import {
  isEnded,
  takesCompletions,
  parseBatchRecord,
  playerCompletionSchema,
  playerOutcomeSchema,
  type BatchRecord,
  type DispatchSummary,
  type PlayerCompletion,
  type PlayerOutcome,
} from '../../batch/batch-record.js';
import { applyCompletions, finishDispatch, isClosed, sortCompletions } from '../../batch/batch-machine.js';
import type { DuckDbDatabase } from '../duckdb/duckdb-database.js';
import { DuckDbClosedError } from '../duckdb/duckdb-database.js';
import { errorMessage } from '../../errors/error-message.js';
import { z } from 'zod';

export const STATE_SCHEMA = 'embedded_state';

const DDL = [
  `CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.leases (game_date VARCHAR PRIMARY KEY, batch_id VARCHAR NOT NULL, expires_at_ms BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.locks (lock_key VARCHAR PRIMARY KEY, holder VARCHAR NOT NULL, expires_at_ms BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.batches (
     batch_id VARCHAR PRIMARY KEY, game_date VARCHAR NOT NULL, state VARCHAR NOT NULL, started_at VARCHAR NOT NULL,
     closed BOOLEAN NOT NULL, record VARCHAR NOT NULL, outcomes VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.batch_players (
     batch_id VARCHAR NOT NULL, player_lookup VARCHAR NOT NULL, published BOOLEAN NOT NULL, completion VARCHAR,
     PRIMARY KEY (batch_id, player_lookup))`,
  `CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.events (id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, happened_at VARCHAR NOT NULL, expires_at_ms BIGINT NOT NULL, data VARCHAR NOT NULL)`,
];

const strings = (values: readonly string[]): DuckDBListValue => new DuckDBListValue([...values]);

export class LocalBatchStore implements BatchStore {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: DuckDbDatabase,
    private readonly clock: Clock,
  ) {}

  /** Opens the store on `db`, creating its tables if they are missing. */
  static async open(db: DuckDbDatabase, clock: Clock): Promise<LocalBatchStore> {
    await db.withConnection(async (conn) => {
      for (const sql of DDL) await conn.run(sql);
    });
    return new LocalBatchStore(db, clock);
  }

  claimLease(claim: LeaseClaim): Promise<LeaseResult> {
    return this.tx('claimLease', async (conn) => {
      const now = this.clock.now().getTime();
      const holder = await this.liveHolder(conn, claim.gameDate, now);
      if (holder !== null && !claim.force) return { ok: false, holderBatchId: holder };
      await conn.run(
        `INSERT INTO ${STATE_SCHEMA}.leases VALUES ($d, $b, $e) ON CONFLICT (game_date) DO UPDATE SET batch_id = excluded.batch_id, expires_at_ms = excluded.expires_at_ms`,
        { d: claim.gameDate, b: claim.batchId, e: BigInt(now + claim.ttlMs) },
      );
      return { ok: true, tookOverBatchId: holder };
    });
  }

  releaseLease(gameDate: string, batchId: string): Promise<void> {
    return this.tx('releaseLease', async (conn) => {
      await conn.run(`DELETE FROM ${STATE_SCHEMA}.leases WHERE game_date = $d AND batch_id = $b`, { d: gameDate, b: batchId });
    });
  }

  leaseHolder(gameDate: string): Promise<string | null> {
    return this.read('leaseHolder', (conn) => this.liveHolder(conn, gameDate, this.clock.now().getTime()));
  }

  createBatch(batch: BatchRecord): Promise<void> {
    return this.tx('createBatch', async (conn) => {
      const exists = await rows(conn, `SELECT 1 FROM ${STATE_SCHEMA}.batches WHERE batch_id = $b`, { b: batch.batch_id });
      if (exists.length > 0) throw new BatchStoreError('createBatch', `batch ${batch.batch_id} already exists`, { retryable: false });
      await conn.run(`INSERT INTO ${STATE_SCHEMA}.batches VALUES ($b, $d, $s, $t, $c, $r, NULL)`, {
        b: batch.batch_id,
        d: batch.game_date,
        s: batch.state,
        t: batch.started_at,
        c: isClosed(batch),
        r: JSON.stringify(batch),
      });
    });
  }

  getBatch(batchId: string): Promise<BatchRecord | null> {
    return this.read('getBatch', (conn) => this.record(conn, batchId));
  }

  listOpen(): Promise<BatchRecord[]> {
    return this.read('listOpen', async (conn) => {
      const found = await rows(conn, `SELECT batch_id, record FROM ${STATE_SCHEMA}.batches WHERE NOT closed ORDER BY started_at DESC`);
      return found.map((r) => parseBatchRecord(JSON.parse(String(r.record)), String(r.batch_id)));
    });
  }

  latestForDate(gameDate: string): Promise<BatchRecord | null> {
    return this.read('latestForDate', async (conn) => {
      const [r] = await rows(
        conn,
        `SELECT batch_id, record FROM ${STATE_SCHEMA}.batches WHERE game_date = $d ORDER BY started_at DESC, batch_id DESC LIMIT 1`,
        { d: gameDate },
      );
      return r ? parseBatchRecord(JSON.parse(String(r.record)), String(r.batch_id)) : null;
    });
  }

  putOutcomes(batchId: string, outcomes: PlayerOutcome[]): Promise<void> {
    return this.tx('putOutcomes', async (conn) => {
      await this.required(conn, batchId);
      await conn.run(`UPDATE ${STATE_SCHEMA}.batches SET outcomes = $o WHERE batch_id = $b`, { b: batchId, o: JSON.stringify(outcomes) });
    });
  }

  getOutcomes(batchId: string): Promise<PlayerOutcome[]> {
    return this.read('getOutcomes', async (conn) => {
      const [r] = await rows(conn, `SELECT outcomes FROM ${STATE_SCHEMA}.batches WHERE batch_id = $b`, { b: batchId });
      if (!r) throw new BatchStoreError('getOutcomes', `unknown batch ${batchId}`, { retryable: false });
      return r.outcomes === null ? [] : z.array(playerOutcomeSchema).parse(JSON.parse(String(r.outcomes)));
    });
  }

  getCompletions(batchId: string): Promise<PlayerCompletion[]> {
    return this.read('getCompletions', async (conn) => {
      const rec = await this.required(conn, batchId);
      const onlyPublished = rec.state !== 'dispatching';
      const found = await rows(
        conn,
        `SELECT completion FROM ${STATE_SCHEMA}.batch_players WHERE batch_id = $b AND completion IS NOT NULL ${onlyPublished ? 'AND published' : ''} ORDER BY player_lookup`,
        { b: batchId },
      );
      return found.map((r) => playerCompletionSchema.parse(JSON.parse(String(r.completion))));
    });
  }

  finishDispatch(
    batchId: string,
    published: readonly string[],
    summary: DispatchSummary,
  ): Promise<{ batch: BatchRecord; finished: boolean }> {
    return this.tx('finishDispatch', async (conn) => {
      const rec = await this.required(conn, batchId);
      if (published.length > 0) {
        await conn.run(
          `INSERT INTO ${STATE_SCHEMA}.batch_players SELECT $b, p, TRUE, NULL FROM (SELECT unnest($players) AS p)
           ON CONFLICT (batch_id, player_lookup) DO UPDATE SET published = TRUE`,
          { b: batchId, players: strings(published) },
          { b: VARCHAR, players: LIST(VARCHAR) },
        );
      }
      const early = await rows(
        conn,
        `SELECT completion FROM ${STATE_SCHEMA}.batch_players WHERE batch_id = $b AND published AND completion IS NOT NULL`,
        { b: batchId },
      );
      const done = finishDispatch(
        rec,
        { published: new Set(published).size, summary, now: this.nowIso() },
        early.map((r) => playerCompletionSchema.parse(JSON.parse(String(r.completion)))),
      );
      if (!done) throw new BatchStoreError('finishDispatch', `batch ${batchId} is ${rec.state}, not dispatching`, { retryable: false });
      await this.write(conn, done.record);
      return { batch: done.record, finished: done.finished };
    });
  }

  recordCompletions(batchId: string, completions: readonly PlayerCompletion[]): Promise<CompletionResult> {
    return this.tx('recordCompletions', async (conn): Promise<CompletionResult> => {
      const rec = await this.record(conn, batchId);
      if (!rec) return { kind: 'unknown_batch' };
      if (!takesCompletions(rec.state)) return { kind: 'batch_ended', batch: rec };
      const players = [...new Set(completions.map((c) => c.player_lookup))];
      const known = await rows(
        conn,
        `SELECT player_lookup, published, completion IS NOT NULL AS reported FROM ${STATE_SCHEMA}.batch_players WHERE batch_id = $b AND player_lookup IN (SELECT unnest($players))`,
        { b: batchId, players: strings(players) },
        { b: VARCHAR, players: LIST(VARCHAR) },
      );
      const byPlayer = new Map(
        known.map((r) => [String(r.player_lookup), { published: r.published === true, reported: r.reported === true }]),
      );
      const dispatched = rec.state !== 'dispatching';
      const { fresh, duplicates, notInBatch } = sortCompletions(
        completions,
        (p) => byPlayer.get(p)?.reported === true,
        dispatched ? (p) => byPlayer.get(p)?.published === true : null,
      );
      if (fresh.length > 0) {
        // One statement for the event's players (the two lists are unnested side by side).
        await conn.run(
          `INSERT INTO ${STATE_SCHEMA}.batch_players SELECT $b, unnest($players), FALSE, unnest($completions)
           ON CONFLICT (batch_id, player_lookup) DO UPDATE SET completion = excluded.completion`,
          { b: batchId, players: strings(fresh.map((c) => c.player_lookup)), completions: strings(fresh.map((c) => JSON.stringify(c))) },
          { b: VARCHAR, players: LIST(VARCHAR), completions: LIST(VARCHAR) },
        );
      }
      const applied = applyCompletions(rec, dispatched ? fresh : [], this.nowIso());
      if (!applied) return { kind: 'batch_ended', batch: rec };
      if (applied.record !== rec) await this.write(conn, applied.record);
      return {
        kind: 'recorded',
        batch: applied.record,
        recorded: fresh.map((c) => c.player_lookup),
        duplicates,
        notInBatch,
        finished: applied.finished,
      };
    });
  }

  update(batchId: string, change: BatchChange): Promise<BatchRecord | null> {
    return this.tx('update', async (conn) => {
      const rec = await this.record(conn, batchId);
      if (!rec) return null;
      const next = change(rec);
      if (!next) return null;
      await this.write(conn, next);
      return next;
    });
  }

  acquireLock(key: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.tx('acquireLock', async (conn) => {
      const now = this.clock.now().getTime();
      const [current] = await rows(conn, `SELECT holder, expires_at_ms FROM ${STATE_SCHEMA}.locks WHERE lock_key = $k`, { k: key });
      if (current && current.holder !== holder && Number(current.expires_at_ms) > now) return false;
      await conn.run(
        `INSERT INTO ${STATE_SCHEMA}.locks VALUES ($k, $h, $e) ON CONFLICT (lock_key) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms`,
        { k: key, h: holder, e: BigInt(now + ttlMs) },
      );
      return true;
    });
  }

  releaseLock(key: string, holder: string): Promise<void> {
    return this.tx('releaseLock', async (conn) => {
      await conn.run(`DELETE FROM ${STATE_SCHEMA}.locks WHERE lock_key = $k AND holder = $h`, { k: key, h: holder });
    });
  }

  lockHolder(key: string): Promise<string | null> {
    return this.read('lockHolder', async (conn) => {
      const [current] = await rows(conn, `SELECT holder, expires_at_ms FROM ${STATE_SCHEMA}.locks WHERE lock_key = $k`, { k: key });
      return current && Number(current.expires_at_ms) > this.clock.now().getTime() ? String(current.holder) : null;
    });
  }

  recordEvent(event: StoreEvent): Promise<boolean> {
    if (!EVENT_ID_PATTERN.test(event.id))
      return Promise.reject(new BatchStoreError('recordEvent', `invalid event id '${event.id}'`, { retryable: false }));
    return this.tx('recordEvent', async (conn) => {
      const now = this.clock.now().getTime();
      // Expired events are forgotten (Firestore's TTL policy does the same there).
      await conn.run(`DELETE FROM ${STATE_SCHEMA}.events WHERE expires_at_ms <= $now`, { now: BigInt(now) });
      const exists = await rows(conn, `SELECT 1 FROM ${STATE_SCHEMA}.events WHERE id = $id`, { id: event.id });
      if (exists.length > 0) return false;
      await conn.run(`INSERT INTO ${STATE_SCHEMA}.events VALUES ($id, $kind, $at, $exp, $data)`, {
        id: event.id,
        kind: event.kind,
        at: event.at,
        exp: BigInt(Date.parse(event.expiresAt)),
        data: JSON.stringify(event.data),
      });
      return true;
    });
  }

  listEvents(kind: string, since: string): Promise<StoreEvent[]> {
    return this.tx('listEvents', async (conn) => {
      const found = await rows(
        conn,
        `SELECT id, kind, happened_at, expires_at_ms, data FROM ${STATE_SCHEMA}.events WHERE kind = $k AND happened_at >= $since AND expires_at_ms > $now ORDER BY happened_at, id`,
        {
          k: kind,
          since,
          now: BigInt(this.clock.now().getTime()),
        },
      );
      return found.map((r) => ({
        id: String(r.id),
        kind: String(r.kind),
        at: String(r.happened_at),
        expiresAt: new Date(Number(r.expires_at_ms)).toISOString(),
        data: JSON.parse(String(r.data)) as Record<string, unknown>,
      }));
    });
  }

  deleteEvent(id: string): Promise<void> {
    return this.tx('deleteEvent', async (conn) => {
      await conn.run(`DELETE FROM ${STATE_SCHEMA}.events WHERE id = $id`, { id });
    });
  }

  // -------------------------------------------------------------------------------------------------------------------

  /** A change: one transaction, after every earlier change of this store has ended (a read then a dependent write never interleave). */
  private tx<T>(operation: string, work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = () => this.db.inTransaction(work).catch((err: unknown) => storeError(operation, err));
    const next = this.tail.then(run, run);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /**
   * A read: its own transaction, not queued behind the changes (DuckDB gives it a consistent snapshot of what is committed),
   * so a status poll or a worker's batch-state check never waits for a burst of completions.
   */
  private read<T>(operation: string, work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.db.inTransaction(work).catch((err: unknown) => storeError(operation, err));
  }

  private async liveHolder(conn: DuckDBConnection, gameDate: string, now: number): Promise<string | null> {
    const [lease] = await rows(conn, `SELECT batch_id, expires_at_ms FROM ${STATE_SCHEMA}.leases WHERE game_date = $d`, { d: gameDate });
    if (!lease || Number(lease.expires_at_ms) <= now) return null;
    const holder = String(lease.batch_id);
    const batch = await this.record(conn, holder);
    return batch && isEnded(batch.state) ? null : holder;
  }

  private async record(conn: DuckDBConnection, batchId: string): Promise<BatchRecord | null> {
    const [r] = await rows(conn, `SELECT record FROM ${STATE_SCHEMA}.batches WHERE batch_id = $b`, { b: batchId });
    return r ? parseBatchRecord(JSON.parse(String(r.record)), `${STATE_SCHEMA}.batches/${batchId}`) : null;
  }

  private async required(conn: DuckDBConnection, batchId: string): Promise<BatchRecord> {
    const rec = await this.record(conn, batchId);
    if (!rec) throw new BatchStoreError('read', `unknown batch ${batchId}`, { retryable: false });
    return rec;
  }

  private async write(conn: DuckDBConnection, rec: BatchRecord): Promise<void> {
    await conn.run(`UPDATE ${STATE_SCHEMA}.batches SET state = $s, closed = $c, record = $r WHERE batch_id = $b`, {
      b: rec.batch_id,
      s: rec.state,
      c: isClosed(rec),
      r: JSON.stringify(rec),
    });
  }

  private nowIso(): string {
    return this.clock.now().toISOString();
  }
}

async function rows(
  conn: DuckDBConnection,
  sql: string,
  values?: Record<string, DuckDBValue>,
  types?: Record<string, ReturnType<typeof LIST> | typeof VARCHAR>,
): Promise<Array<Record<string, unknown>>> {
  const reader = await conn.runAndReadAll(sql, values, types);
  return reader.getRowObjectsJS();
}

function storeError(operation: string, err: unknown): never {
  if (err instanceof BatchStoreError) throw err;
  // A closed database means the process is stopping: the caller's work belongs to the next process (retry).
  const retryable = err instanceof DuckDbClosedError || /conflict|IO Error/i.test(errorMessage(err));
  throw new BatchStoreError(operation, errorMessage(err), { retryable, cause: err });
}
