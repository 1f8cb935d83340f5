/**
 * One embedded DuckDB database (a file or ':memory:') and its small connection pool: every operation takes a connection of
 * its own, gives it back when done, and a connection left inside a failed transaction is closed instead of reused. Shared
 * by the warehouse adapter and the embedded default's durable state (the local batch store and the local bus), so one
 * process opens one file once.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from './duckdb-api.js';

export class DuckDbClosedError extends Error {
  constructor() {
    super('the DuckDB database is closed');
    this.name = 'DuckDbClosedError';
  }
}

/**
 * How much write-ahead log DuckDB gathers before it folds it into the file (its `checkpoint_threshold`; default 16 MB). A
 * checkpoint compresses again the row groups that changed, and the embedded default writes a lot of small, wide changes
 * (the bus's messages of ≈ 120 KB, staging rows, the batch store): at 16 MB a backfill checkpointed every four dates. At
 * 64 MB a 165-date backfill cost 0.92× the CPU (docs/benchmarks.md, issue 20). The price is a longer log to replay after
 * a crash: 51 MB of log replayed in 0.37 s here.
 */
const CHECKPOINT_THRESHOLD = '64MB';

export class DuckDbDatabase {
  private readonly idle: DuckDBConnection[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly path: string,
    private readonly maxIdle: number,
  ) {}

  /**
   * `threads`: DuckDB's worker threads for one query (its `threads` setting). Default 1: each query runs on the thread that
   * called it (a libuv worker under @duckdb/node-api, four of them), so several connections still run side by side, and
   * no calling thread spins waiting for DuckDB's scheduler. The services' statements are small (a batch's state, a
   * date's rows): measured on the season world (issue 20, docs/benchmarks.md), DuckDB's default (one thread per core)
   * cost 1.3× the CPU per backfilled date for no gain in wall time, and perf showed the difference in the waiting
   * (`ClientContext::ExecuteTaskInternal`, the task queue's dequeue and its mutex). Pass more for large scans.
   */
  static async open(path: string, maxIdleConnections = 8, threads = 1): Promise<DuckDbDatabase> {
    return new DuckDbDatabase(
      await DuckDBInstance.create(path, { threads: String(threads), checkpoint_threshold: CHECKPOINT_THRESHOLD }),
      path,
      maxIdleConnections,
    );
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `work` on a connection of its own and returns the connection to the pool (unless it is left unusable). */
  withConnection<T>(work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new DuckDbClosedError());
    const op = (async () => {
      const conn = this.idle.pop() ?? (await this.instance.connect());
      let healthy = true;
      try {
        return await work(conn);
      } catch (err) {
        healthy = await stillUsable(conn);
        throw err;
      } finally {
        if (healthy && !this.closed && this.idle.length < this.maxIdle) this.idle.push(conn);
        else conn.closeSync();
      }
    })();
    this.inFlight.add(op);
    const forget = (): void => {
      this.inFlight.delete(op);
    };
    op.then(forget, forget);
    return op;
  }

  /** `work` inside BEGIN … COMMIT on one connection; any failure rolls back and rethrows. */
  inTransaction<T>(work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.withConnection(async (conn) => {
      await conn.run('BEGIN TRANSACTION');
      try {
        const result = await work(conn);
        await conn.run('COMMIT');
        return result;
      } catch (err) {
        await conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** Waits for operations in flight, then closes every connection and the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    for (const conn of this.idle.splice(0)) conn.closeSync();
    this.instance.closeSync();
  }
}

/** After a failure: a connection goes back to the pool only if it is not left inside a transaction. */
async function stillUsable(conn: DuckDBConnection): Promise<boolean> {
  try {
    await conn.run('SELECT 1');
    await conn.run('BEGIN TRANSACTION');
    await conn.run('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}
