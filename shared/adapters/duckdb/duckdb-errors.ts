/**
 * DuckDB failures as the port's WarehouseError, with `retryable` decided here from what DuckDB reported: a write-write
 * conflict and an I/O error may clear on another attempt, and a closed database means this process is shutting down (the
 * work belongs to the next one); a missing table, a bad value or a SQL error never clears by itself.
 */
import { WarehouseError, type WarehouseErrorCode } from '../../ports/warehouse.js';
import { errorMessage } from '../../errors/error-message.js';
import { DuckDbClosedError } from './duckdb-database.js';

export function isDuckDbConflict(err: unknown): boolean {
  return /conflict/i.test(errorMessage(err));
}

const NOT_FOUND = /Catalog Error: (Table|Schema|View) with name .* does not exist/i;
const IO = /^IO Error|IO Error:/;

export function duckDbError(name: string, err: unknown): WarehouseError {
  if (err instanceof WarehouseError) return err;
  const message = errorMessage(err);
  let code: WarehouseErrorCode = 'QUERY_FAILED';
  let retryable = false;
  if (err instanceof DuckDbClosedError) {
    code = 'CLOSED';
    retryable = true;
  } else if (isDuckDbConflict(err)) {
    code = 'TRANSACTION_CONFLICT';
    retryable = true;
  } else if (NOT_FOUND.test(message)) code = 'NOT_FOUND';
  else if (IO.test(message)) retryable = true;
  return new WarehouseError(name, code === 'TRANSACTION_CONFLICT' ? `transaction conflict, retry: ${message}` : message, code, {
    retryable,
    cause: err,
  });
}

export function invalidInput(name: string, message: string, cause?: unknown): WarehouseError {
  return new WarehouseError(name, message, 'INVALID_INPUT', { retryable: false, cause });
}
