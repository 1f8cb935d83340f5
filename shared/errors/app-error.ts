/**
 * The one error type. `code` is stable and machine-readable; `httpStatus` is what an HTTP caller sees; `operational` errors
 * are expected failures (bad input, a failed dependency) as opposed to programmer errors.
 * For push routes the class decides the ack: `retryable` errors answer 5xx (Pub/Sub redelivers), others are acked.
 */
import { errorMessage } from './error-message.js';

export { errorMessage };

export interface AppErrorOptions {
  httpStatus?: number;
  operational?: boolean;
  retryable?: boolean;
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

/** A dependency (warehouse, bus, store) failed during `step`. */
export const dependencyFailed = (step: string, cause: unknown): AppError =>
  new AppError('DEPENDENCY_FAILED', `${step} failed: ${errorMessage(cause)}`, {
    httpStatus: 503,
    retryable: true,
    details: { step },
    cause,
  });


export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('INTERNAL', errorMessage(err), { httpStatus: 500, operational: false, cause: err });
}
