/**
 * The alert dispatcher: every alert goes out at most once per event, and a failing notifier never fails the work that
 * raised it.
 *
 * Once: before sending, the alert's id is recorded in the batch store (`recordEvent`, a compare-and-set in both adapters);
 * only the caller that recorded it sends. A redelivered push, a second `/check-stalled` sweep or a second coordinator
 * instance raising the same event finds the id recorded and sends nothing. If the send fails, the record is deleted so a
 * later trigger of the same event may send it; the alert is logged in full (ALERT_NOT_SENT) either way. The one gap is a
 * process dying between the record and the send: that alert is lost (logged as claimed) rather than ever sent twice.
 * Why the batch store and not the warehouse: the record must be atomic and immediate (BigQuery DML on a table is neither
 * cheap nor free of concurrent-transaction aborts), and the batch store already is both, on Firestore and on DuckDB.
 */
import type { CoordinatorDeps } from '../deps.js';
import type { Alert } from '../../../shared/ports/notifier.js';
import { errorMessage } from '../../../shared/errors/error-message.js';

/** Alert records are kept this long (a Firestore TTL policy deletes them after). */
export const ALERT_RECORD_TTL_MS = 30 * 24 * 3_600_000;

export type NotifyResult = 'sent' | 'duplicate' | 'failed';

/** Event ids are plain keys: anything else in an alert id becomes `_`. */
export const alertEventId = (alertId: string): string => `alert.${alertId.replace(/[^A-Za-z0-9_.:-]/g, '_')}`.slice(0, 400);

export async function notify(deps: CoordinatorDeps, alert: Alert): Promise<NotifyResult> {
  const log = deps.logger;
  const id = alertEventId(alert.id);
  const now = deps.clock.now();
  let claimed: boolean;
  try {
    claimed = await deps.batches.recordEvent({
      id,
      kind: 'alert',
      at: now.toISOString(),
      expiresAt: new Date(now.getTime() + ALERT_RECORD_TTL_MS).toISOString(),
      data: { kind: alert.kind, severity: alert.severity, title: alert.title, notifier: deps.notifier.name },
    });
  } catch (err) {
    // Without the record an alert could go out twice: it is not sent now, and the log keeps it.
    log.error(
      { event: 'ALERT_NOT_SENT', alert_id: alert.id, kind: alert.kind, err: errorMessage(err), alert },
      `alert not sent (its send could not be recorded): ${alert.title}`,
    );
    return 'failed';
  }
  if (!claimed) {
    log.debug({ event: 'ALERT_DUPLICATE', alert_id: alert.id }, 'alert already sent for this event');
    return 'duplicate';
  }
  try {
    await deps.notifier.send(alert);
    log.info({ event: 'ALERT_SENT', alert_id: alert.id, kind: alert.kind, notifier: deps.notifier.name }, `alert sent: ${alert.title}`);
    return 'sent';
  } catch (err) {
    log.error(
      { event: 'ALERT_NOT_SENT', alert_id: alert.id, kind: alert.kind, notifier: deps.notifier.name, err: errorMessage(err), alert },
      `alert not sent: ${alert.title}`,
    );
    await deps.batches
      .deleteEvent(id)
      .catch((e: unknown) =>
        log.warn({ alert_id: alert.id, err: errorMessage(e) }, 'alert record not released; this event will not be alerted again'),
      );
    return 'failed';
  }
}
