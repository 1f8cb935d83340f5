/** Wraps a warehouse to count the queries one operation makes (reported in the batch summary and asserted by tests). */
import type { Warehouse } from '../../../shared/ports/warehouse.js';

export interface CountedWarehouse {
  warehouse: Warehouse;
  count(): number;
}

export function countQueries(inner: Warehouse): CountedWarehouse {
  let n = 0;
  const warehouse: Warehouse = {
    query: (q) => {
      n++;
      return inner.query(q);
    },
    insert: (req) => {
      n++;
      return inner.insert(req);
    },
    transaction: (name, statements) => {
      n++;
      return inner.transaction(name, statements);
    },
    close: () => inner.close(),
  };
  return { warehouse, count: () => n };
}
