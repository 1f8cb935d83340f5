/** Per-request child logger carrying the Cloud Trace field, attached as `res.locals.log`. */
import type { RequestHandler, Response } from 'express';
import type { AppLogger } from '../ports/logger.js';
import { traceFields } from '../logging/logger.js';

export function requestContext(logger: AppLogger, projectId: string | undefined): RequestHandler {
  return (req, res, next) => {
    res.locals.log = logger.child({ ...traceFields(req.get('x-cloud-trace-context'), projectId, req.get('traceparent')), path: req.path });
    next();
  };
}

export function requestLog(res: Response, fallback: AppLogger): AppLogger {
  const log: unknown = res.locals.log;
  return (log as AppLogger | undefined) ?? fallback;
}
