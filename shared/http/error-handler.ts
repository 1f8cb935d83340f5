/** The one error middleware: every error becomes `{status:'error', error: code, message, …details}` with its HTTP status. */
import type { ErrorRequestHandler } from 'express';
import type { AppLogger } from '../ports/logger.js';
import { AppError, toAppError } from '../errors/app-error.js';
import { requestLog } from './request-context.js';

interface BodyParserError {
  type?: string;
  status?: number;
  message?: string;
  /** entity.too.large: the limit and the declared length, in bytes. */
  limit?: number;
  length?: number;
}

export function errorHandler(logger: AppLogger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    const parserErr = err as BodyParserError;
    const appErr =
      parserErr?.type === 'entity.parse.failed'
        ? new AppError('BAD_REQUEST', `request body is not valid JSON: ${parserErr.message ?? ''}`, { httpStatus: 400 })
        : parserErr?.type === 'entity.too.large'
          ? new AppError('PAYLOAD_TOO_LARGE', `request body is too large: ${parserErr.length !== undefined ? `${parserErr.length} bytes` : 'it'} exceeds this endpoint's limit of ${parserErr.limit ?? '?'} bytes`, { httpStatus: 413, retryable: false })
          : toAppError(err);
    const log = requestLog(res, logger);
    if (appErr.httpStatus >= 500) log.error({ code: appErr.code, err: appErr.message, details: appErr.details }, appErr.message);
    else log.warn({ code: appErr.code, details: appErr.details }, appErr.message);
    if (res.headersSent) return;
    res.status(appErr.httpStatus).json({ status: 'error', error: appErr.code, message: appErr.message, ...(appErr.details ?? {}) });
  };
}
