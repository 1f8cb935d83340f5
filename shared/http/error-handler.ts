/**
 * The one error middleware. An error becomes `{status:'error', error: code, message}` with its HTTP status — a 4xx may add
 * the offending `field`/`fields`; internals (stacks, holders, waits) never reach a response. The status:
 *   body-parser failures (bad JSON, charset, encoding, size) → their 4xx; AppError → its status;
 *   a port error (warehouse, bus, batch store) → 503 when its adapter says it may succeed later, else 500;
 *   anything else → 500, a programmer error.
 * A 5xx is logged once, with the stack, in Cloud Error Reporting's shape
 * (https://cloud.google.com/error-reporting/docs/formatting-error-messages); a 4xx is a warning without a stack.
 */
import type { ErrorRequestHandler } from 'express';
import type { AppLogger } from '../ports/logger.js';
import { AppError, toAppError } from '../errors/app-error.js';

/** Marks a log entry for Error Reporting even when its message is not recognised as a stack trace. */
export const REPORTED_ERROR_EVENT = 'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent';

interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
  /** entity.too.large: the limit and the declared length, in bytes. */
  limit?: number;
  length?: number;
  charset?: string;
  encoding?: string;
}

/** body-parser's and raw-body's errors (http-errors with a 4xx status and a `type`) as AppErrors. */
// eslint-disable-next-line complexity -- one branch per body-parser/zlib error type, each mapped to its 4xx
export function bodyError(err: unknown): AppError | null {
  const e = err as BodyParserError | null;
  const status = e?.status ?? e?.statusCode;
  // body-parser's own errors carry a `type`; a body that does not inflate (gzip or deflate that is not) is zlib's error,
  // given a 400 and `expose` by body-parser but no type.
  if (!e || typeof status !== 'number' || status < 400 || status >= 500 || (typeof e.type !== 'string' && e.expose !== true)) return null;
  switch (e.type) {
    case 'entity.parse.failed':
      return new AppError('BAD_REQUEST', `request body is not valid JSON: ${e.message ?? ''}`, { httpStatus: 400, retryable: false });
    case 'entity.too.large':
      return new AppError(
        'PAYLOAD_TOO_LARGE',
        `request body is too large: ${e.length !== undefined ? `${e.length} bytes` : 'it'} exceeds this endpoint's limit of ${e.limit ?? '?'} bytes`,
        { httpStatus: 413, retryable: false },
      );
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', `unsupported charset ${JSON.stringify(e.charset ?? '')}: send UTF-8 JSON`, {
        httpStatus: 415,
        retryable: false,
      });
    case 'encoding.unsupported':
      return new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `unsupported content encoding ${JSON.stringify(e.encoding ?? '')}: send identity, gzip or deflate`,
        { httpStatus: 415, retryable: false },
      );
    default:
      // request.aborted, request.size.invalid, stream.encoding.set, a gzip or deflate body that does not inflate, …
      return new AppError('BAD_REQUEST', `the request body could not be read: ${e.message ?? e.type ?? 'unreadable'}`, {
        httpStatus: status,
        retryable: false,
      });
  }
}

/** The status and body an error answers with, and whether it is a server fault worth a stack in the log. */
export function errorResponse(err: unknown): AppError {
  return bodyError(err) ?? toAppError(err);
}

export function errorHandler(logger: AppLogger, service: string): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const appErr = errorResponse(err);
    logError(logger, service, appErr, err, `${req.method} ${req.path}`);
    if (res.headersSent) return;
    const field = appErr.httpStatus < 500 ? pick(appErr.details, ['field', 'fields']) : {};
    res.status(appErr.httpStatus).json({ status: 'error', error: appErr.code, message: appErr.message, ...field });
  };
}

/** Logs an error once: 5xx with its stack in Error Reporting's shape, 4xx as a warning. */
export function logError(logger: AppLogger, service: string, appErr: AppError, original: unknown, where: string): void {
  if (appErr.httpStatus >= 500) {
    const stack = original instanceof Error && original.stack ? original.stack : `${appErr.name}: ${appErr.message}`;
    logger.error(
      {
        '@type': REPORTED_ERROR_EVENT,
        serviceContext: { service },
        code: appErr.code,
        retryable: appErr.retryable,
        operational: appErr.operational,
        context: { reportLocation: { functionName: where } },
      },
      stack,
    );
  } else {
    logger.warn({ code: appErr.code, where }, appErr.message);
  }
}

function pick(details: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (details?.[k] !== undefined) out[k] = details[k];
  return out;
}
