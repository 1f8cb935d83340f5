/**
 * One pino root logger in Cloud Logging's JSON shape: `severity`, `message`, `time` (RFC 3339), and the trace field
 * `logging.googleapis.com/trace` on request child loggers (from X-Cloud-Trace-Context).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

export interface LoggerOptions {
  service: string;
  level: LevelWithSilent;
  revision?: string | undefined;
  /** Where lines go; stdout by default. */
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { service: opts.service, ...(opts.revision ? { revision: opts.revision } : {}) },
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }),
      },
      redact: { paths: ['apiKey', 'headers["x-api-key"]', 'headers.authorization', 'authorization'], censor: '[redacted]' },
    },
    opts.destination ?? process.stdout,
  );
}

/** `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1` → the trace field Cloud Logging correlates on. */
export function traceFields(header: string | undefined, projectId: string | undefined): Record<string, string> {
  if (!header || !projectId) return {};
  const traceId = header.split('/')[0];
  if (!traceId) return {};
  return { 'logging.googleapis.com/trace': `projects/${projectId}/traces/${traceId}` };
}
