/** Wraps a warehouse to count the queries one operation makes (reported in the batch summary and asserted by tests). */
import { interceptWarehouse, type Warehouse } from '../../../shared/ports/warehouse.js';

export interface CountedWarehouse {
  warehouse: Warehouse;
  count(): number;
}

export function countQueries(inner: Warehouse): CountedWarehouse {
  let n = 0;
  const warehouse = interceptWarehouse(inner, (_call, next) => {
    n++;
    return next();
  });
  return { warehouse, count: () => n };
}
