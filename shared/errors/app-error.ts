/**
 * The one error type the HTTP layer answers with. `code` is stable and machine-readable; `httpStatus` is what an HTTP caller
 * sees; `retryable` says whether the same request may succeed later (for push routes: 5xx and a redelivery, or an ack);
 * `operational` errors are expected failures (bad input, a failed dependency) as opposed to programmer errors.
 * Ports' errors (WarehouseError, BatchStoreError) carry their adapter's `retryable` and map here.
 */
import { errorMessage } from './error-message.js';
import { WarehouseError } from '../ports/warehouse.js';
import { BatchStoreError } from '../ports/batch-store.js';

export { errorMessage };

export interface AppErrorOptions {
  httpStatus?: number;
  operational?: boolean;
  retryable?: boolean;
  /** For 4xx answers: `field`/`fields` reach the response; anything else only the log. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly operational: boolean;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, opts: AppErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.httpStatus = opts.httpStatus ?? 500;
    this.operational = opts.operational ?? true;
    this.retryable = opts.retryable ?? this.httpStatus >= 500;
    this.details = opts.details;
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>): AppError =>
  new AppError('BAD_REQUEST', message, { httpStatus: 400, retryable: false, ...(details ? { details } : {}) });

/**
 * Anything thrown, as an AppError: a port error keeps its adapter's verdict (503 when it may succeed later, 500 when it
 * never will); anything else is a programmer error (500, not operational).
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof WarehouseError || err instanceof BatchStoreError) {
    const code = err instanceof WarehouseError ? `WAREHOUSE_${err.code}` : 'BATCH_STORE_FAILED';
    return new AppError(code, err.message, { httpStatus: err.retryable ? 503 : 500, retryable: err.retryable, cause: err });
  }
  return new AppError('INTERNAL', errorMessage(err), { httpStatus: 500, operational: false, retryable: false, cause: err });
}
