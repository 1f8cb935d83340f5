/**
 * Batch reports. `renderReport` is what `npm start` prints (it also reads the batch's rows from the warehouse);
 * `renderStatusReport` is built from a `/status` body alone, for the operator CLI talking to a remote coordinator.
 * Both share the same sections, so the two never drift apart.
 */
import { param, type Warehouse } from '../shared/ports/warehouse.js';
import { num, str } from '../shared/queries/row-values.js';

type Json = Record<string, unknown>;

const pad = (s: string | number, n: number): string => String(s).padEnd(n);
const lpad = (s: string | number, n: number): string => String(s).padStart(n);
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' ? (v as Json) : {});
/** A value for display: absent fields show as '-' (a batch that ended before dispatch has a short summary). */
const show = (v: unknown): string => (v === undefined || v === null ? '-' : String(v));
const entries = (v: unknown): [string, number][] =>
  Object.entries(obj(v))
    .filter((e): e is [string, number] => typeof e[1] === 'number')
    .sort((a, b) => b[1] - a[1]);

class Sections {
  readonly out: string[] = [];
  line(text: string): void {
    this.out.push(text);
  }
  heading(title: string): void {
    this.out.push('', title, '-'.repeat(title.length));
  }
  counts(title: string, values: unknown, width = 26): void {
    this.heading(title);
    for (const [k, v] of entries(values)) this.out.push(`  ${pad(k, width)}${lpad(v, 5)}`);
  }
}

/** Header, lines by source and sportsbook, gate outcomes and reasons. */
function headSections(s: Sections, status: Json): void {
  const summary = obj(status.summary);
  const consolidation = obj(status.consolidation);
  const progress = obj(status.progress);
  s.line(`Batch ${show(status.batch_id)} — ${show(status.game_date)} — ${String(status.status).toUpperCase()} (phase-5 status: ${String(consolidation.phase5_status ?? 'n/a')})`);
  s.line(`Games ${show(summary.games)} · candidates ${show(summary.candidates)} · published ${show(summary.published)} · completed ${show(progress.completed)}/${show(progress.expected)} · predictions ${show(progress.total_predictions)} · rows merged ${String(consolidation.rows_merged ?? 0)}`);
  if (summary.completeness !== undefined) {
    const completeness = obj(summary.completeness);
    s.line(`Completeness: ${show(completeness.analysed_games)}/${show(completeness.final_games)} final games analysed over ${show(completeness.lookback_days)} days (${show(completeness.coverage_pct)}%)`);
  }
  if (summary.lines !== undefined) {
    const lines = obj(summary.lines);
    s.counts('Lines by source', lines.by_source);
    s.counts('Lines by sportsbook', lines.by_sportsbook);
    if (entries(lines.no_line_reasons).length > 0) s.counts('Players without a line', lines.no_line_reasons);
  }
  if (summary.gate !== undefined) {
    const gate = obj(summary.gate);
    s.counts('Gate outcomes', gate.by_outcome);
    s.counts('Gate reasons', gate.by_reason, 34);
  }
}

/** Time per phase, the query count, warnings. */
function tailSections(s: Sections, status: Json): void {
  const summary = obj(status.summary);
  const consolidation = obj(status.consolidation);
  const progress = obj(status.progress);
  s.heading('Time per phase (ms)');
  for (const [k, v] of Object.entries(obj(summary.phase_ms))) s.line(`  ${pad(k, 26)}${lpad(String(v), 7)}`);
  s.line(`  ${pad('consolidation', 26)}${lpad(String(consolidation.ms ?? '-'), 7)}`);
  // An ended batch is measured to its end (its `elapsed_seconds` keeps counting to now); a running one to now.
  const ended = Date.parse(String(status.ended_at)) - Date.parse(String(status.started_at));
  const total = Number.isFinite(ended) ? ended : Math.round(Number(progress.elapsed_seconds) * 1000);
  s.line(`  ${pad(Number.isFinite(ended) ? 'start → consolidated' : 'start → now', 26)}${lpad(String(total), 7)}`);
  s.line(`Warehouse queries for /start: ${show(summary.warehouse_queries)}`);

  const warnings = Array.isArray(summary.warnings) ? (summary.warnings as unknown[]) : [];
  if (warnings.length > 0) {
    s.heading('Warnings');
    for (const w of warnings) s.line(`  ! ${String(w)}`);
  }
}

export async function renderReport(status: Json, warehouse: Warehouse): Promise<string> {
  const summary = obj(status.summary);
  const gameDate = String(status.game_date);
  const s = new Sections();
  headSections(s, status);

  const perModel = await warehouse.query({
    name: 'report.per_model',
    sql: `SELECT system_id, COUNT(*) AS n, COUNTIF(recommendation = 'OVER') AS overs, COUNTIF(recommendation = 'UNDER') AS unders,
      COUNTIF(is_actionable) AS actionable, ROUND(AVG(predicted_points - current_points_line), 2) AS bias
      FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = @d AND is_active = TRUE AND batch_id = @b
      GROUP BY system_id ORDER BY system_id`,
    params: { d: param.date(gameDate), b: param.string(String(status.batch_id)) },
    datasetPrefix: String(status.dataset_prefix ?? ''),
  });
  s.heading('Predictions per model (active rows of this batch)');
  s.line(`  ${pad('model', 28)}${lpad('rows', 6)}${lpad('OVER', 6)}${lpad('UNDER', 6)}${lpad('actionable', 11)}${lpad('avg pred−line', 15)}`);
  for (const r of perModel) {
    s.line(`  ${pad(str(r, 'system_id') ?? '', 28)}${lpad(num(r, 'n') ?? 0, 6)}${lpad(num(r, 'overs') ?? 0, 6)}${lpad(num(r, 'unders') ?? 0, 6)}${lpad(num(r, 'actionable') ?? 0, 11)}${lpad(num(r, 'bias') ?? '-', 15)}`);
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
  s.heading(`Ten largest edges (champion ${String(champion)})`);
  s.line(`  ${pad('player', 26)}${pad('book', 13)}${lpad('line', 6)}${lpad('pred', 7)}${lpad('edge', 7)}  rec`);
  for (const r of edges) {
    s.line(`  ${pad(str(r, 'player_lookup') ?? '', 26)}${pad(str(r, 'sportsbook') ?? '', 13)}${lpad(num(r, 'current_points_line') ?? '', 6)}${lpad(num(r, 'predicted_points') ?? '', 7)}${lpad((num(r, 'line_margin') ?? 0).toFixed(1), 7)}  ${str(r, 'recommendation') ?? ''}`);
  }

  tailSections(s, status);
  return s.out.join('\n');
}

/**
 * The report from a `/status` body alone: the same sections as `renderReport`, with the gate's verdicts per model and the
 * consolidation checks in place of the warehouse's per-model rows and edges.
 */
export function renderStatusReport(status: Json): string {
  const summary = obj(status.summary);
  const consolidation = status.consolidation === null || status.consolidation === undefined ? null : obj(status.consolidation);
  const s = new Sections();
  headSections(s, status);

  const perModel = Object.entries(obj(obj(summary.gate).per_model));
  if (perModel.length > 0) {
    const champion = obj(summary.models).champion;
    s.heading('Gate verdicts per model (players)');
    s.line(`  ${pad('model', 34)}${lpad('predict', 8)}${lpad('skip', 6)}${lpad('block', 6)}`);
    for (const [model, v] of perModel) {
      const c = obj(v);
      s.line(`  ${pad(model + (model === champion ? ' (champion)' : ''), 34)}${lpad(show(c.predict), 8)}${lpad(show(c.skip), 6)}${lpad(show(c.block), 6)}`);
    }
  }

  if (consolidation) {
    s.heading('Consolidation');
    s.line(`  ${pad('merge', 26)}${consolidation.merge_ok === true ? 'ok' : 'FAILED'}`);
    s.line(`  ${pad('rows merged', 26)}${lpad(show(consolidation.rows_merged), 7)}`);
    s.line(`  ${pad('rows deactivated', 26)}${lpad(show(consolidation.rows_deactivated), 7)}`);
    s.line(`  ${pad('duplicate active keys', 26)}${lpad(show(consolidation.duplicate_active_keys), 7)}`);
    s.line(`  ${pad('phase-5 message', 26)}${show(consolidation.phase5_status)}${consolidation.phase5_error ? ` (not published: ${String(consolidation.phase5_error)})` : ''}`);
    if (consolidation.checks !== null && consolidation.checks !== undefined) {
      const c = obj(consolidation.checks);
      s.line(`  champion ${show(c.champion)}: ${show(c.rows)} rows · avg pred−line ${show(c.avg_bias)} · OVER ${show(c.over_pct)}% · UNDER ${show(c.under_pct)}% · direction mismatches ${show(c.direction_mismatches)}`);
      const checkWarnings = Array.isArray(c.warnings) ? (c.warnings as unknown[]) : [];
      for (const w of checkWarnings) s.line(`  ! ${String(w)}`);
    }
  }

  tailSections(s, status);
  const problems = [status.error, summary.stall_reason ? `stalled: ${String(summary.stall_reason)}` : null].filter((p) => p !== null && p !== undefined);
  if (problems.length > 0) {
    s.heading('Problems');
    for (const p of problems) s.line(`  ! ${String(p)}`);
  }
  return s.out.join('\n');
}
