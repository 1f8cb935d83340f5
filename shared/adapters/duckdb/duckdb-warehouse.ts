/**
 * Warehouse port over embedded DuckDB (`@duckdb/node-api`): a file or `:memory:`.
 *
 * - SQL is the project's BigQuery subset, rendered by `renderDuckDbSql` (duckdb-sql.ts); parameters and rows convert in
 *   duckdb-values.ts; tables come from the one schema definition (duckdb-schema.ts).
 * - insert() appends whole data chunks through an Appender inside one transaction: all rows land, or none. Appends to the
 *   same table that arrive while one is being written are coalesced into the next transaction (one commit for many
 *   requests), so a batch's staging writes are not serialised behind one transaction per request; each request still
 *   learns its own outcome.
 * - Every operation takes its own connection from the database's pool (duckdb-database.ts); a transaction holds its
 *   connection alone until it ends.
 * - Errors are the port's WarehouseError (duckdb-errors.ts decides `retryable`); the message starts with the query's name.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { DuckDBDataChunk, ResultReturnType } from './duckdb-api.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { findTable, type TableDef } from '../../contracts/tables.js';
import {
  prefixedDataset,
  type InsertRequest,
  type Query,
  type QueryResult,
  type Row,
  type StatementResult,
  type TransactionResult,
  type Warehouse,
} from '../../ports/warehouse.js';
import { errorMessage } from '../../errors/error-message.js';
import { DuckDbDatabase } from './duckdb-database.js';
import { duckDbError, invalidInput } from './duckdb-errors.js';
import { dropDuckDbPrefix, ensureDuckDbTables, physicalColumns } from './duckdb-schema.js';
import { renderDuckDbSql } from './duckdb-sql.js';
import { columnsOf, paramValue, readRows } from './duckdb-values.js';

export { WarehouseError } from '../../ports/warehouse.js';
export { expirySql } from './duckdb-schema.js';

export interface DuckDbWarehouseOptions {
  /** A database file, or ':memory:'. */
  path: string;
  /** Sleeps this long before each query, insert and transaction: stands for BigQuery's per-job overhead. Default 0. */
  simulatedRoundTripMs?: number;
  /** Idle connections kept for reuse. Default 8. */
  maxIdleConnections?: number;
  /** DuckDB's threads for one query; default 1 (see DuckDbDatabase.open). */
  threads?: number;
}

const CHUNK_ROWS = 2048;

interface PendingAppend {
  req: InsertRequest;
  table: TableDef;
  columns: DuckDBValue[][];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class DuckDbWarehouse implements Warehouse {
  /**
   * Physical column order per `schema.table`; only ensureTables and dropPrefix change tables: the first fills it for the
   * schemas it ensured (from its one catalog read), the second clears it.
   */
  private readonly columnOrder = new Map<string, string[]>();
  /** Appends waiting for their table's writer, by `schema.table`. */
  private readonly appendQueues = new Map<string, PendingAppend[]>();
  private readonly appendWriters = new Set<string>();

  constructor(
    /** The database this warehouse runs on; the embedded default's state stores may share it. */
    readonly db: DuckDbDatabase,
    private readonly roundTripMs = 0,
    private readonly ownsDatabase = true,
  ) {}

  static async open(opts: DuckDbWarehouseOptions): Promise<DuckDbWarehouse> {
    const db = await DuckDbDatabase.open(opts.path, opts.maxIdleConnections ?? 8, opts.threads ?? 1);
    return new DuckDbWarehouse(db, Math.max(0, opts.simulatedRoundTripMs ?? 0));
  }

  get path(): string {
    return this.db.path;
  }

  /**
   * Creates the tables' datasets and tables (IF NOT EXISTS) under the prefix, adds columns an older table lacks, and
   * emulates BigQuery's partition expiry (BigQuery does this itself, continuously).
   */
  async ensureTables(tables: readonly TableDef[], datasetPrefix?: string): Promise<void> {
    await this.track('ensureTables', async (conn) => {
      const physical = await ensureDuckDbTables(conn, tables, datasetPrefix, new Date());
      this.columnOrder.clear();
      for (const [key, columns] of physical) this.columnOrder.set(key, columns);
    });
  }

  /** Drops every dataset of the project's tables created under `prefix` (`<prefix>_nba_raw`, …), with its tables. */
  async dropPrefix(prefix: string): Promise<void> {
    await this.track('dropPrefix', async (conn) => {
      await dropDuckDbPrefix(conn, prefix);
      this.columnOrder.clear();
    });
  }

  async query(q: Query): Promise<Row[]> {
    await this.roundTrip();
    return this.track(q.name, async (conn) => (await this.runStatement(conn, q)).rows);
  }

  async queryWithWarnings(q: Query): Promise<QueryResult> {
    return { rows: await this.query(q), warnings: [] };
  }

  async insert(req: InsertRequest): Promise<void> {
    await this.roundTrip();
    let table: TableDef;
    let columns: DuckDBValue[][];
    try {
      table = findTable(req.table);
      columns = columnsOf(table, req.rows);
    } catch (err) {
      throw invalidInput(req.name, `insert into ${req.table}: ${errorMessage(err)}`, err);
    }
    if (req.rows.length === 0) return;
    if (this.db.isClosed) throw duckDbError(req.name, new Error('the warehouse is closed'));
    const key = `${prefixedDataset(table.dataset, req.datasetPrefix)}.${table.name}`;
    return new Promise<void>((resolve, reject) => {
      const queue = this.appendQueues.get(key) ?? [];
      queue.push({ req, table, columns, resolve, reject });
      this.appendQueues.set(key, queue);
      if (!this.appendWriters.has(key)) void this.drainAppends(key);
    });
  }

  async transaction(name: string, statements: Query[]): Promise<TransactionResult> {
    await this.roundTrip();
    return this.track(name, (conn) =>
      inTransaction(conn, async () => {
        const results: StatementResult[] = [];
        for (const st of statements) {
          try {
            results.push(await this.runStatement(conn, st));
          } catch (err) {
            throw new Error(`statement ${st.name}: ${errorMessage(err)}`, { cause: err });
          }
        }
        return { statements: results, warnings: [] };
      }),
    );
  }

  async close(): Promise<void> {
    if (this.ownsDatabase) await this.db.close();
  }

  // -------------------------------------------------------------------------------------------------------------------

  /**
   * One writer per table: takes every append queued so far and writes them in one transaction; the requests that came
   * in meanwhile form the next one. If the combined write fails, each request is retried alone, so one bad request never
   * fails its neighbours.
   */
  private async drainAppends(key: string): Promise<void> {
    this.appendWriters.add(key);
    try {
      for (;;) {
        const group = this.appendQueues.get(key)?.splice(0) ?? [];
        if (group.length === 0) break;
        try {
          await this.appendGroup(group);
          for (const p of group) p.resolve();
        } catch (err) {
          if (group.length === 1) (group[0] as PendingAppend).reject(duckDbError(group[0]!.req.name, err));
          else {
            for (const p of group) {
              await this.appendGroup([p]).then(p.resolve, (e: unknown) => p.reject(duckDbError(p.req.name, e)));
            }
          }
        }
      }
    } finally {
      this.appendWriters.delete(key);
      this.appendQueues.delete(key);
    }
  }

  private appendGroup(group: PendingAppend[]): Promise<void> {
    const first = group[0] as PendingAppend;
    const table = first.table;
    const schema = prefixedDataset(table.dataset, first.req.datasetPrefix);
    return this.db
      .withConnection((conn) =>
        inTransaction(conn, async () => {
          // The appender writes by position: order the values by the table's physical column order (a migrated table has
          // its added columns at the end, whatever their place in the definition).
          const physical = await this.physicalOrder(conn, schema, table.name);
          const defined = new Map(table.columns.map((c, i) => [c.name, i]));
          const missing = table.columns.filter((c) => !physical.includes(c.name)).map((c) => c.name);
          const extra = physical.filter((name) => !defined.has(name));
          if (missing.length > 0 || extra.length > 0) {
            throw new Error(
              `insert into ${schema}.${table.name}: the table does not match the schema definition (missing: ${missing.join(', ') || 'none'}; not in the definition: ${extra.join(', ') || 'none'}): run ensureTables to migrate`,
            );
          }
          const appender = await conn.createAppender(table.name, schema);
          try {
            const types = physical.map((_, i) => appender.columnType(i));
            for (const p of group) {
              const columns = physical.map((name) => p.columns[defined.get(name) as number] as DuckDBValue[]);
              const rowCount = p.req.rows.length;
              for (let start = 0; start < rowCount; start += CHUNK_ROWS) {
                const n = Math.min(CHUNK_ROWS, rowCount - start);
                const chunk = DuckDBDataChunk.create(types, n);
                chunk.setColumns(columns.map((col) => (start === 0 && n === rowCount ? col : col.slice(start, start + n))));
                appender.appendDataChunk(chunk);
              }
            }
            appender.flushSync();
          } finally {
            appender.closeSync();
          }
        }),
      )
      .catch((err: unknown) => {
        throw new Error(`insert into ${schema}.${table.name}: ${errorMessage(err)}`, { cause: err });
      });
  }

  private async physicalOrder(conn: DuckDBConnection, schema: string, table: string): Promise<string[]> {
    const key = `${schema}.${table}`;
    let order = this.columnOrder.get(key);
    if (!order) {
      order = await physicalColumns(conn, schema, table);
      this.columnOrder.set(key, order);
    }
    return order;
  }

  private async roundTrip(): Promise<void> {
    if (this.roundTripMs > 0) await sleep(this.roundTripMs);
  }

  /** Runs `work` on a pooled connection and names the operation in any error. */
  private track<T>(name: string, work: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.db.withConnection(work).catch((err: unknown) => {
      throw duckDbError(name, err);
    });
  }

  private async runStatement(conn: DuckDBConnection, q: Query): Promise<StatementResult> {
    const sql = renderDuckDbSql(q.sql, q.datasetPrefix);
    const prepared = await conn.prepare(sql);
    try {
      const params = q.params ?? {};
      for (let i = 1; i <= prepared.parameterCount; i++) {
        const pname = prepared.parameterName(i);
        const p = params[pname];
        if (p === undefined) throw new Error(`parameter @${pname} has no value`);
        let bound;
        try {
          bound = paramValue(p);
        } catch (err) {
          throw invalidInput(q.name, `parameter @${pname}: ${errorMessage(err)}`, err);
        }
        prepared.bindValue(i, bound.value, bound.type);
      }
      const reader = await prepared.runAndReadAll();
      if (reader.returnType === ResultReturnType.CHANGED_ROWS) return { affectedRows: reader.rowsChanged, rows: [] };
      return { affectedRows: 0, rows: readRows(reader) };
    } finally {
      prepared.destroySync();
    }
  }
}

async function inTransaction<T>(conn: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const result = await work();
    await conn.run('COMMIT');
    return result;
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
