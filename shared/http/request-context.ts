/**
 * Per request: the logging context (log-context.ts) with the Cloud Trace fields, opened before anything else runs so every
 * line written while serving the request carries them, and one access line per request (pino-http).
 */
import type { RequestHandler, Response } from 'express';
import type { AppLogger } from '../ports/logger.js';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { traceFields } from '../logging/logger.js';
import { runWithLogContext } from '../logging/log-context.js';

export function requestContext(projectId: string | undefined): RequestHandler {
  return (req, _res, next) => {
    const trace = traceFields(req.get('x-cloud-trace-context'), projectId, req.get('traceparent'));
    runWithLogContext({ ...trace, request_id: req.get('x-request-id') ?? randomUUID() }, () => next());
  };
}

/**
 * One access line per request, in Cloud Logging's `httpRequest` shape: method, path, status, latency. Quiet for health
 * probes (debug), warning for 4xx, error for 5xx. Credentials never appear (no headers are logged).
 */
export function accessLog(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    customLogLevel: (req, res, err) => {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return req.url === '/health' || req.url === '/ready' ? 'debug' : 'info';
    },
    customSuccessMessage: (req, res, ms) => `${req.method} ${req.url} ${res.statusCode} ${Math.round(ms)} ms`,
    customErrorMessage: (req, res) => `${req.method} ${req.url} ${res.statusCode}`,
    serializers: {
      req: () => undefined,
      res: () => undefined,
      responseTime: () => undefined,
    },
    customAttributeKeys: { responseTime: 'latency_ms' },
    // On the access line only: customProps would also bind it to the request's child logger when the request arrives
    // (status 200 before any answer), so the line carried the key twice, and Cloud Logging may keep the first.
    customSuccessObject: (req, res, val: Record<string, unknown>) => ({ ...val, httpRequest: httpRequestOf(req, res) }),
    customErrorObject: (req, res, _err, val: Record<string, unknown>) => ({ ...val, httpRequest: httpRequestOf(req, res) }),
    wrapSerializers: false,
  });
}

/** Cloud Logging's `httpRequest` (https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#HttpRequest). */
function httpRequestOf(req: IncomingMessage, res: ServerResponse): Record<string, unknown> {
  return { requestMethod: req.method, requestUrl: req.url, status: res.statusCode, userAgent: req.headers['user-agent'] };
}

/** The logger a middleware attached to this response (`res.locals.log`, e.g. with the caller's identity), else `fallback`. */
export function requestLog(res: Response, fallback: AppLogger): AppLogger {
  const log: unknown = res.locals.log;
  return (log as AppLogger | undefined) ?? fallback;
}
