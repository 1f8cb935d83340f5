/**
 * One pino root logger in Cloud Logging's JSON shape: `severity`, `message`, `time` (RFC 3339), and the trace field
 * `logging.googleapis.com/trace` on request child loggers (from X-Cloud-Trace-Context).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { logContext } from './log-context.js';

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

/**
 * Credentials never reach a log line, even when someone logs a request's headers: API keys, bearer tokens (operators',
 * Scheduler's, Pub/Sub's) and Cloud Run's forwarded `X-Serverless-Authorization`.
 */
const SECRET_HEADERS = ['authorization', '["x-api-key"]', '["x-serverless-authorization"]', '["proxy-authorization"]', 'cookie'];
export const REDACTED_PATHS = [
  'apiKey',
  'apiKeys',
  'api_key',
  'token',
  'idToken',
  'authorization',
  ...SECRET_HEADERS.flatMap((h) => {
    const seg = h.startsWith('[') ? h : `.${h}`;
    return [`headers${seg}`, `req.headers${seg}`, `request.headers${seg}`];
  }),
];

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
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // The request's trace, batch and player on every line written while serving it (log-context.ts).
      // A copy: pino merges each line's fields into what the mixin returns.
      mixin: () => ({ ...logContext() }),
    },
    opts.destination ?? process.stdout,
  );
}

/**
 * The fields Cloud Logging correlates a line with its request's trace on: `logging.googleapis.com/trace`
 * (`projects/<project>/traces/<trace id>`), plus `spanId` and `trace_sampled` when known. From
 * `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1` (span in decimal), else W3C `traceparent: 00-TRACE_ID-SPAN_ID-FLAGS`.
 * Malformed values are ignored (the header comes from the caller).
 */
export function traceFields(
  header: string | undefined,
  projectId: string | undefined,
  traceparent?: string,
): Record<string, string | boolean> {
  if (!projectId) return {};
  const fromCloud = header ? /^([0-9a-fA-F]{32})(?:\/(\d{1,20}))?(?:;o=([01]))?/.exec(header) : null;
  if (fromCloud?.[1]) {
    const out: Record<string, string | boolean> = {
      'logging.googleapis.com/trace': `projects/${projectId}/traces/${fromCloud[1].toLowerCase()}`,
    };
    const span = fromCloud[2] !== undefined ? BigInt(fromCloud[2]) : 0n;
    if (span > 0n && span < 2n ** 64n) out['logging.googleapis.com/spanId'] = span.toString(16).padStart(16, '0');
    if (fromCloud[3] !== undefined) out['logging.googleapis.com/trace_sampled'] = fromCloud[3] === '1';
    return out;
  }
  const w3c = traceparent ? /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent.trim()) : null;
  if (w3c?.[1] && w3c[2] && w3c[3]) {
    return {
      'logging.googleapis.com/trace': `projects/${projectId}/traces/${w3c[1]}`,
      'logging.googleapis.com/spanId': w3c[2],
      'logging.googleapis.com/trace_sampled': (parseInt(w3c[3], 16) & 1) === 1,
    };
  }
  return {};
}
