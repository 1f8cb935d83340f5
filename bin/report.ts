/** The report `npm start` prints: what a person wants to see at a glance after a daily run. */
import { param, type Warehouse } from '../shared/ports/warehouse.js';
import { num, str } from '../shared/queries/row-values.js';

type Json = Record<string, unknown>;

const pad = (s: string | number, n: number): string => String(s).padEnd(n);
const lpad = (s: string | number, n: number): string => String(s).padStart(n);
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' ? (v as Json) : {});
const entries = (v: unknown): [string, number][] =>
  Object.entries(obj(v))
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .sort((a, b) => b[1] - a[1]);

export async function renderReport(status: Json, warehouse: Warehouse): Promise<string> {
  const summary = obj(status.summary);
  const consolidation = obj(status.consolidation);
  const progress = obj(status.progress);
  const gameDate = String(status.game_date);
  const out: string[] = [];
  const h = (title: string) => out.push('', title, '-'.repeat(title.length));

  out.push(`Batch ${String(status.batch_id)} — ${gameDate} — ${String(status.status).toUpperCase()} (phase-5 status: ${String(consolidation.phase5_status ?? 'n/a')})`);
  out.push(`Games ${String(summary.games)} · candidates ${String(summary.candidates)} · published ${String(summary.published)} · completed ${String(progress.completed)}/${String(progress.expected)} · predictions ${String(progress.total_predictions)} · rows merged ${String(consolidation.rows_merged ?? 0)}`);
  const completeness = obj(summary.completeness);
  out.push(`Completeness: ${String(completeness.analysed_games)}/${String(completeness.final_games)} final games analysed over ${String(completeness.lookback_days)} days (${String(completeness.coverage_pct)}%)`);

  const lines = obj(summary.lines);
  h('Lines by source');
  for (const [k, v] of entries(lines.by_source)) out.push(`  ${pad(k, 26)}${lpad(v, 5)}`);
  h('Lines by sportsbook');
  for (const [k, v] of entries(lines.by_sportsbook)) out.push(`  ${pad(k, 26)}${lpad(v, 5)}`);
  const noLine = entries(lines.no_line_reasons);
  if (noLine.length > 0) {
    h('Players without a line');
    for (const [k, v] of noLine) out.push(`  ${pad(k, 26)}${lpad(v, 5)}`);
  }

  const gate = obj(summary.gate);
  h('Gate outcomes');
  for (const [k, v] of entries(gate.by_outcome)) out.push(`  ${pad(k, 26)}${lpad(v, 5)}`);
  h('Gate reasons');
  for (const [k, v] of entries(gate.by_reason)) out.push(`  ${pad(k, 34)}${lpad(v, 5)}`);

  const perModel = await warehouse.query({
    name: 'report.per_model',
    sql: `SELECT system_id, COUNT(*) AS n, COUNTIF(recommendation = 'OVER') AS overs, COUNTIF(recommendation = 'UNDER') AS unders,
      COUNTIF(is_actionable) AS actionable, ROUND(AVG(predicted_points - current_points_line), 2) AS bias
      FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = @d AND is_active = TRUE AND batch_id = @b
      GROUP BY system_id ORDER BY system_id`,
    params: { d: param.date(gameDate), b: param.string(String(status.batch_id)) },
    datasetPrefix: String(status.dataset_prefix ?? ''),
  });
  h('Predictions per model (active rows of this batch)');
  out.push(`  ${pad('model', 28)}${lpad('rows', 6)}${lpad('OVER', 6)}${lpad('UNDER', 6)}${lpad('actionable', 11)}${lpad('avg pred−line', 15)}`);
  for (const r of perModel) {
    out.push(`  ${pad(str(r, 'system_id') ?? '', 28)}${lpad(num(r, 'n') ?? 0, 6)}${lpad(num(r, 'overs') ?? 0, 6)}${lpad(num(r, 'unders') ?? 0, 6)}${lpad(num(r, 'actionable') ?? 0, 11)}${lpad(num(r, 'bias') ?? '-', 15)}`);
  }

  const champion = obj(summary.models).champion;
  const edges = await warehouse.query({
    name: 'report.top_edges',
    sql: `SELECT player_lookup, sportsbook, current_points_line, predicted_points, recommendation, line_margin
      FROM {{nba_predictions.player_prop_predictions}}
      WHERE game_date = @d AND is_active = TRUE AND batch_id = @b AND system_id = @s AND current_points_line IS NOT NULL
      ORDER BY ABS(line_margin) DESC, player_lookup LIMIT 10`,
    params: { d: param.date(gameDate), b: param.string(String(status.batch_id)), s: param.string(String(champion)) },
    datasetPrefix: String(status.dataset_prefix ?? ''),
  });
  h(`Ten largest edges (champion ${String(champion)})`);
  out.push(`  ${pad('player', 26)}${pad('book', 13)}${lpad('line', 6)}${lpad('pred', 7)}${lpad('edge', 7)}  rec`);
  for (const r of edges) {
    out.push(`  ${pad(str(r, 'player_lookup') ?? '', 26)}${pad(str(r, 'sportsbook') ?? '', 13)}${lpad(num(r, 'current_points_line') ?? '', 6)}${lpad(num(r, 'predicted_points') ?? '', 7)}${lpad((num(r, 'line_margin') ?? 0).toFixed(1), 7)}  ${str(r, 'recommendation') ?? ''}`);
  }

  h('Time per phase (ms)');
  for (const [k, v] of Object.entries(obj(summary.phase_ms))) out.push(`  ${pad(k, 26)}${lpad(String(v), 7)}`);
  out.push(`  ${pad('consolidation', 26)}${lpad(String(consolidation.ms ?? '-'), 7)}`);
  out.push(`  ${pad('start → consolidated', 26)}${lpad(String(Math.round(Number(progress.elapsed_seconds) * 1000)), 7)}`);
  out.push(`Warehouse queries for /start: ${String(summary.warehouse_queries)}`);

  const warnings = Array.isArray(summary.warnings) ? (summary.warnings as unknown[]) : [];
  if (warnings.length > 0) {
    h('Warnings');
    for (const w of warnings) out.push(`  ! ${String(w)}`);
  }
  return out.join('\n');
}
