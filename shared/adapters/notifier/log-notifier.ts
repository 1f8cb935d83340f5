/** The embedded default's notifier: each alert is one structured log line (event ALERT) at its severity's level. */
import type { AppLogger } from '../../ports/logger.js';
import type { Alert, Notifier } from '../../ports/notifier.js';

export class LogNotifier implements Notifier {
  readonly name = 'log';

  constructor(private readonly logger: AppLogger) {}

  async send(alert: Alert): Promise<void> {
    const level = alert.severity === 'info' ? 'info' : alert.severity === 'warning' ? 'warn' : 'error';
    this.logger[level](
      { event: 'ALERT', alert_id: alert.id, kind: alert.kind, severity: alert.severity, lines: alert.lines, fields: alert.fields ?? {} },
      alert.title,
    );
  }
}
