/**
 * Notifier port: tells people what happened (Slack in production, the log on the embedded default). Domain code builds an
 * Alert and hands it to the coordinator's alert dispatcher (services/coordinator/alerts), which sends each alert id once and
 * never lets a failing notifier fail the work that raised it.
 */

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export interface Alert {
  /** One id per event: the same event raised twice (a redelivery, a second sweep) carries the same id and is sent once. */
  id: string;
  /** What kind of event (batch_end, dead_letter, repeated_stalls, post_checks, check_lines, morning_summary, signal). */
  kind: string;
  severity: AlertSeverity;
  title: string;
  /** Plain text lines. */
  lines: string[];
  /** Key facts, shown as a list (batch id, date, counts). */
  fields?: Record<string, string | number | boolean | null>;
}

export interface Notifier {
  /** Which adapter this is (`slack`, `log`), for logs and /health/deep. */
  readonly name: string;
  /** Delivers the alert; throws when it could not (the dispatcher logs it and may try again on a later trigger). */
  send(alert: Alert): Promise<void>;
}
