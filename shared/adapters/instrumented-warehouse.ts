/**
 * A Warehouse decorator that records every query, insert and transaction statement, so tests can count queries per
 * operation and check that a prefixed run touched only prefixed tables. Engine-agnostic: it reads table names from the
 * SQL's `{{dataset.table}}` tokens and resolves them with the same prefix rule as the adapters.
 */
import {
  prefixedDataset,
  tablesOf,
  type InsertRequest,
  type Query,
  type QueryResult,
  type Row,
  type TransactionResult,
  type Warehouse,
} from '../ports/warehouse.js';
import { errorMessage } from '../errors/error-message.js';

export interface QueryLogEntry {
  /** The query's or insert's `name`; for a transaction statement, the statement's own `name`. */
  name: string;
  kind: 'query' | 'insert' | 'transaction';
  /** Resolved, prefixed `dataset.table` names, in order of appearance, without duplicates. */
  tables: string[];
  /** Wall time of the call; for a transaction statement, of its whole transaction. */
  ms: number;
  /** For a transaction statement: the transaction's name. */
  transaction?: string;
  /** Rows handed to insert(). */
  rowCount?: number;
  /** Set when the call failed. */
  error?: string;
}

function resolve(table: string, prefix: string | undefined): string {
  const dot = table.indexOf('.');
  if (dot < 0) return table;
  const dataset = table.slice(0, dot);
  let resolved: string;
  try {
    resolved = prefixedDataset(dataset, prefix);
  } catch {
    resolved = `${prefix}_${dataset}`; // an invalid prefix: the inner warehouse reports it
  }
  return `${resolved}.${table.slice(dot + 1)}`;
}

function tablesOfQuery(q: Query): string[] {
  return [...new Set(tablesOf(q.sql).map((t) => resolve(t, q.datasetPrefix)))];
}

export class QueryLog implements Warehouse {
  readonly entries: QueryLogEntry[] = [];

  constructor(readonly inner: Warehouse) {}

  async query(q: Query): Promise<Row[]> {
    return this.timed([{ name: q.name, kind: 'query', tables: tablesOfQuery(q) }], () => this.inner.query(q));
  }

  async queryWithWarnings(q: Query): Promise<QueryResult> {
    return this.timed([{ name: q.name, kind: 'query', tables: tablesOfQuery(q) }], () => this.inner.queryWithWarnings(q));
  }

  async insert(req: InsertRequest): Promise<void> {
    const entry = { name: req.name, kind: 'insert' as const, tables: [resolve(req.table, req.datasetPrefix)], rowCount: req.rows.length };
    return this.timed([entry], () => this.inner.insert(req));
  }

  async transaction(name: string, statements: Query[]): Promise<TransactionResult> {
    const entries = statements.map((st) => ({ name: st.name, kind: 'transaction' as const, tables: tablesOfQuery(st), transaction: name }));
    return this.timed(entries, () => this.inner.transaction(name, statements));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Entries with this name (a query, insert or transaction statement). */
  named(name: string): QueryLogEntry[] {
    return this.entries.filter((e) => e.name === name);
  }

  /** Every resolved table any entry touched, sorted. */
  tablesTouched(): string[] {
    return [...new Set(this.entries.flatMap((e) => e.tables))].sort();
  }

  clear(): void {
    this.entries.length = 0;
  }

  private async timed<T>(entries: Omit<QueryLogEntry, 'ms'>[], call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    let error: string | undefined;
    try {
      return await call();
    } catch (err) {
      error = errorMessage(err);
      throw err;
    } finally {
      const ms = performance.now() - start;
      for (const e of entries) this.entries.push(error === undefined ? { ...e, ms } : { ...e, ms, error });
    }
  }
}

/** Wraps `inner`; `log` is the live list of entries. */
export function instrumentWarehouse(inner: Warehouse): { warehouse: Warehouse; log: QueryLogEntry[]; queryLog: QueryLog } {
  const queryLog = new QueryLog(inner);
  return { warehouse: queryLog, log: queryLog.entries, queryLog };
}
