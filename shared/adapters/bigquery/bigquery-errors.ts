/**
 * Errors of the BigQuery adapter, and which BigQuery failures are worth another attempt.
 *
 * Retryable: the reasons BigQuery documents as transient (backendError, internalError, jobBackendError, jobInternalError,
 * rateLimitExceeded — e.g. "too many table update operations"), HTTP 429/500/502/503/504, a dropped connection (the adapter's
 * retries are idempotent: the same job id, the same insertIds), and "Could not serialize access to table … due to concurrent
 * update" / "Transaction is aborted due to concurrent update" (two MERGEs or transactions on one table; BigQuery reports it
 * as invalidQuery, but running the job again succeeds).
 * Never retried: invalidQuery, notFound, accessDenied, quotaExceeded, bytesBilledLimitExceeded, duplicate, invalid, … .
 */

/** What a failed call to BigQuery said, whatever shape the client library gave it. */
export interface ApiFailure {
  /** HTTP status, when the failure came from a response. */
  httpStatus: number | undefined;
  /** A Node network error code (ECONNRESET, …), when the connection failed. */
  networkCode: string | undefined;
  reasons: string[];
  message: string;
}

const RETRYABLE_REASONS = new Set(['backendError', 'internalError', 'jobBackendError', 'jobInternalError', 'rateLimitExceeded']);
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED']);
const CONCURRENT_UPDATE =
  /could not serialize access to table .* due to concurrent update|transaction is aborted due to concurrent update/i;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

import { errorMessage } from '../../errors/error-message.js';

export { errorMessage };

/** Reads an ApiError (`code`, `errors[{reason, message}]`), a job's `errorResult`/`errors`, or a network error. */
export function apiFailureOf(err: unknown): ApiFailure {
  const reasons: string[] = [];
  let httpStatus: number | undefined;
  let networkCode: string | undefined;
  const messages: string[] = [];
  if (isRecord(err)) {
    if (typeof err.code === 'number') httpStatus = err.code;
    if (typeof err.code === 'string') networkCode = err.code;
    const list = Array.isArray(err.errors) ? err.errors : [];
    for (const e of list) {
      if (!isRecord(e)) continue;
      if (typeof e.reason === 'string') reasons.push(e.reason);
      if (typeof e.message === 'string') messages.push(e.message);
    }
  }
  const top = errorMessage(err);
  const message = [top, ...messages.filter((m) => !top.includes(m))].join('; ');
  return { httpStatus, networkCode, reasons: [...new Set(reasons)], message };
}

export function isConcurrentUpdate(f: ApiFailure): boolean {
  return CONCURRENT_UPDATE.test(f.message);
}

export function isRetryable(f: ApiFailure): boolean {
  if (isConcurrentUpdate(f)) return true;
  if (f.reasons.some((r) => RETRYABLE_REASONS.has(r))) return true;
  if (f.httpStatus !== undefined && RETRYABLE_STATUS.has(f.httpStatus)) return true;
  return f.networkCode !== undefined && RETRYABLE_NETWORK.has(f.networkCode);
}

/** `[invalidQuery] Syntax error …` — the message with BigQuery's reasons in front. */
export function describeFailure(f: ApiFailure): string {
  const status = f.httpStatus !== undefined ? `HTTP ${f.httpStatus}` : f.networkCode;
  const tags = [status, ...f.reasons].filter((t): t is string => t !== undefined);
  return tags.length > 0 ? `[${tags.join(', ')}] ${f.message}` : f.message;
}
