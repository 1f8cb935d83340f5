/** A warehouse that passes everything to `inner` except the methods a test overrides (to inject faults). */
import type { Warehouse } from '../../shared/ports/warehouse.js';

export function overrideWarehouse(inner: Warehouse, overrides: Partial<Pick<Warehouse, 'query' | 'insert' | 'transaction'>>): Warehouse {
  return {
    query: overrides.query ?? ((q) => inner.query(q)),
    insert: overrides.insert ?? ((r) => inner.insert(r)),
    transaction: overrides.transaction ?? ((name, statements) => inner.transaction(name, statements)),
    close: () => inner.close(),
  };
}
