/** A warehouse that passes everything to `inner` except the methods a test overrides (to inject faults). */
import { interceptWarehouse, type Warehouse } from '../../shared/ports/warehouse.js';

export function overrideWarehouse(inner: Warehouse, overrides: Partial<Pick<Warehouse, 'query' | 'insert' | 'transaction'>>): Warehouse {
  return interceptWarehouse(inner, (call, next) => {
    if (call.kind === 'query' && overrides.query) {
      const rows = overrides.query(call.query);
      return (call.withWarnings ? rows.then((r) => ({ rows: r, warnings: [] })) : rows) as never;
    }
    if (call.kind === 'insert' && overrides.insert) return overrides.insert(call.insert) as never;
    if (call.kind === 'transaction' && overrides.transaction) return overrides.transaction(call.name, call.statements) as never;
    return next();
  });
}
