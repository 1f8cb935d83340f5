/**
 * `POST /check-signal {game_date=TODAY, send_alert=true}`: the champion's daily signal for the date, from
 * daily_prediction_signals; with `send_alert`, sent through the notifier once per (date, model, colour) — a colour that
 * changes later in the day (a line check re-predicted players) is sent again.
 */
import type { CoordinatorDeps } from '../deps.js';
import { resolveGameDate } from '../../../shared/dates/game-date.js';
import { championSignal, type ChampionSignal } from './daily-signal.js';
import { notify, type NotifyResult } from '../alerts/notify.js';

export type CheckSignalOutcome =
  | { kind: 'invalid'; field: string; message: string }
  | { kind: 'no_signal'; game_date: string }
  | { kind: 'signal'; signal: ChampionSignal; delivery: NotifyResult | 'not_requested' };

export async function checkSignal(
  deps: CoordinatorDeps,
  req: { gameDate: string | undefined; sendAlert: boolean },
): Promise<CheckSignalOutcome> {
  const resolved = resolveGameDate(req.gameDate, deps.clock.now());
  if (!resolved.ok) return { kind: 'invalid', field: 'game_date', message: resolved.error };
  const signal = await championSignal(deps.warehouse, resolved.date);
  if (!signal) return { kind: 'no_signal', game_date: resolved.date };
  if (!req.sendAlert) return { kind: 'signal', signal, delivery: 'not_requested' };
  const delivery = await notify(deps, {
    id: `signal.${signal.game_date}.${signal.system_id}.${signal.daily_signal}`,
    kind: 'signal',
    severity: signal.daily_signal === 'RED' ? 'warning' : 'info',
    title: `Signal ${signal.daily_signal} for ${signal.game_date} (${signal.system_id})`,
    lines: [signal.signal_explanation ?? ''],
    fields: {
      pct_over: signal.pct_over,
      total_picks: signal.total_picks,
      high_edge_picks: signal.high_edge_picks,
      skew: signal.skew_category,
      slate_size: signal.slate_size,
    },
  });
  return { kind: 'signal', signal, delivery };
}
