/**
 * `POST /morning-summary` (Cloud Scheduler, once a morning): today's picture, sent through the notifier once per date
 * (`force` sends it again) and answered in full. Four queries, whatever the slate:
 *   - the date's batches as their run-history rows (one per ended batch) — plus the batches still open, from the batch store;
 *   - active predictions per model (lined, OVER, UNDER);
 *   - the champion's signal (daily_prediction_signals);
 *   - the champion's largest edges.
 */
import type { CoordinatorDeps } from '../deps.js';
import { param } from '../../../shared/ports/warehouse.js';
import { num, reqStr, str } from '../../../shared/queries/row-values.js';
import { resolveGameDate } from '../../../shared/dates/game-date.js';
import { isEnded } from '../../../shared/batch/batch-record.js';
import type { Alert } from '../../../shared/ports/notifier.js';
import { championSignal, type ChampionSignal } from '../signals/daily-signal.js';
import { notify, type NotifyResult } from '../alerts/notify.js';

export const TOP_EDGES = 5;

const RUNS_SQL = `
SELECT run_id, status, records_processed, predictions, processed_at, trigger_source
FROM {{nba_reference.processor_run_history}}
WHERE data_date = @game_date AND processor_name = 'PredictionCoordinator'
ORDER BY processed_at`;

const PER_MODEL_SQL = `
SELECT system_id, COUNT(*) AS active, COUNTIF(current_points_line IS NOT NULL) AS lined,
  COUNTIF(recommendation = 'OVER') AS overs, COUNTIF(recommendation = 'UNDER') AS unders
FROM {{nba_predictions.player_prop_predictions}}
WHERE game_date = @game_date AND is_active = TRUE
GROUP BY system_id
ORDER BY system_id`;

const EDGES_SQL = `
SELECT p.player_lookup, p.game_id, p.predicted_points, p.current_points_line, p.recommendation,
  ABS(p.predicted_points - p.current_points_line) AS edge
FROM {{nba_predictions.player_prop_predictions}} p
JOIN {{nba_predictions.model_registry}} m ON m.model_id = p.system_id
WHERE p.game_date = @game_date AND p.is_active = TRUE AND p.current_points_line IS NOT NULL
  AND m.is_production = TRUE AND m.enabled = TRUE AND m.status = 'active'
ORDER BY edge DESC, p.player_lookup
LIMIT ${TOP_EDGES}`;

export interface MorningSummary {
  game_date: string;
  batches: Array<{ batch_id: string; status: string; players: number | null; predictions: number | null; trigger_source: string | null }>;
  open_batches: Array<{ batch_id: string; state: string; purpose: string }>;
  models: Array<{ system_id: string; active: number; lined: number; overs: number; unders: number }>;
  signal: ChampionSignal | null;
  top_edges: Array<{
    player_lookup: string;
    game_id: string;
    predicted_points: number;
    line: number;
    recommendation: string;
    edge: number;
  }>;
}

export type MorningSummaryOutcome =
  | { kind: 'invalid'; field: string; message: string }
  | { kind: 'summary'; summary: MorningSummary; delivery: NotifyResult };

export async function morningSummary(
  deps: CoordinatorDeps,
  req: { gameDate: string | undefined; force: boolean },
): Promise<MorningSummaryOutcome> {
  const now = deps.clock.now();
  const resolved = resolveGameDate(req.gameDate, now);
  if (!resolved.ok) return { kind: 'invalid', field: 'game_date', message: resolved.error };
  const gameDate = resolved.date;
  const p = { game_date: param.date(gameDate) };
  const [runs, perModel, edges, signal, open] = await Promise.all([
    deps.warehouse.query({ name: 'morning_summary.runs', sql: RUNS_SQL, params: p }),
    deps.warehouse.query({ name: 'morning_summary.models', sql: PER_MODEL_SQL, params: p }),
    deps.warehouse.query({ name: 'morning_summary.edges', sql: EDGES_SQL, params: p }),
    championSignal(deps.warehouse, gameDate),
    deps.batches.listOpen(),
  ]);
  const summary: MorningSummary = {
    game_date: gameDate,
    batches: runs.map((r) => ({
      batch_id: reqStr(r, 'run_id'),
      status: reqStr(r, 'status'),
      players: num(r, 'records_processed'),
      predictions: num(r, 'predictions'),
      trigger_source: str(r, 'trigger_source'),
    })),
    open_batches: open
      .filter((b) => b.game_date === gameDate && !isEnded(b.state))
      .map((b) => ({ batch_id: b.batch_id, state: b.state, purpose: b.purpose })),
    models: perModel.map((r) => ({
      system_id: reqStr(r, 'system_id'),
      active: num(r, 'active') ?? 0,
      lined: num(r, 'lined') ?? 0,
      overs: num(r, 'overs') ?? 0,
      unders: num(r, 'unders') ?? 0,
    })),
    signal,
    top_edges: edges.map((r) => ({
      player_lookup: reqStr(r, 'player_lookup'),
      game_id: reqStr(r, 'game_id'),
      predicted_points: num(r, 'predicted_points') ?? 0,
      line: num(r, 'current_points_line') ?? 0,
      recommendation: reqStr(r, 'recommendation'),
      edge: Math.round((num(r, 'edge') ?? 0) * 10) / 10,
    })),
  };
  const id = req.force ? `morning_summary.${gameDate}.${now.getTime()}` : `morning_summary.${gameDate}`;
  return { kind: 'summary', summary, delivery: await notify(deps, summaryAlert(id, summary)) };
}

export function summaryAlert(id: string, s: MorningSummary): Alert {
  const lines = [
    `Batches: ${s.batches.length === 0 ? 'none ended yet' : s.batches.map((b) => `${b.batch_id} ${b.status} (${b.players ?? 0} players, ${b.predictions ?? 0} predictions)`).join('; ')}`,
    ...(s.open_batches.length > 0
      ? [`Still running: ${s.open_batches.map((b) => `${b.batch_id} (${b.purpose}, ${b.state})`).join('; ')}`]
      : []),
    `Predictions per model: ${s.models.length === 0 ? 'none' : s.models.map((m) => `${m.system_id} ${m.active} (${m.lined} with a line, ${m.overs} OVER / ${m.unders} UNDER)`).join('; ')}`,
    s.signal
      ? `Signal: ${s.signal.daily_signal} for ${s.signal.system_id} — ${s.signal.signal_explanation ?? ''}`
      : 'Signal: none yet (the champion needs 10 active predictions with a line)',
    ...(s.top_edges.length > 0
      ? [
          'Largest edges (champion):',
          ...s.top_edges.map((e) => `- ${e.player_lookup}: ${e.predicted_points} vs ${e.line} → ${e.recommendation} (edge ${e.edge})`),
        ]
      : []),
  ];
  const severity = s.signal?.daily_signal === 'RED' ? 'warning' : 'info';
  return {
    id,
    kind: 'morning_summary',
    severity,
    title: `Predictions for ${s.game_date}`,
    lines,
    fields: { batches: s.batches.length, models: s.models.length, signal: s.signal?.daily_signal ?? null },
  };
}
