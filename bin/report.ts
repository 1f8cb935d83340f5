/**
 * Batch reports. `renderReport` is what `npm start` prints (it also reads the batch's rows from the warehouse);
 * `renderStatusReport` is built from a `/status` body alone, for the operator CLI talking to a remote coordinator.
 * Both take the `/status` contract (shared/contracts/status.ts) and share the same sections, so they never drift apart.
 */
import { param, type Warehouse } from '../shared/ports/warehouse.js';
import { num, str } from '../shared/queries/row-values.js';
import type { BatchStatus } from '../shared/contracts/status.js';

const pad = (s: string | number, n: number): string => String(s).padEnd(n);
const lpad = (s: string | number, n: number): string => String(s).padStart(n);
/** A value for display: absent fields show as '-' (a batch that ended before dispatch has no summary). */
const show = (v: unknown): string => (v === undefined || v === null ? '-' : String(v));
const entries = (v: Record<string, number> | undefined): [string, number][] => Object.entries(v ?? {}).sort((a, b) => b[1] - a[1]);

class Sections {
  readonly out: string[] = [];
  line(text: string): void {
    this.out.push(text);
  }
  heading(title: string): void {
    this.out.push('', title, '-'.repeat(title.length));
  }
  counts(title: string, values: Record<string, number> | undefined, width = 26): void {
    this.heading(title);
    for (const [k, v] of entries(values)) this.out.push(`  ${pad(k, width)}${lpad(v, 5)}`);
  }
}

/** Header, lines by source and sportsbook, gate outcomes and reasons. */
function headSections(s: Sections, status: BatchStatus): void {
  const summary = status.summary;
  const c = status.consolidation;
  const progress = status.progress;
  s.line(
    `Batch ${status.batch_id} — ${status.game_date} — ${status.status.toUpperCase()} (phase-5 status: ${status.closing?.phase5_status ?? 'n/a'})`,
  );
  s.line(
    `Games ${show(summary?.games)} · candidates ${show(summary?.candidates)} · published ${show(summary?.published)} · completed ${progress.completed}/${progress.expected} · failed ${progress.failed} · predictions ${progress.total_predictions} · rows merged ${c?.merge?.rows_merged ?? 0}`,
  );
  if (summary?.completeness) {
    const completeness = summary.completeness;
    s.line(
      `Completeness: ${completeness.analysed_games}/${completeness.final_games} final games analysed over ${completeness.lookback_days} days (${show(completeness.coverage_pct)}%)`,
    );
  }
  if (summary?.lines) {
    s.counts('Lines by source', summary.lines.by_source);
    s.counts('Lines by sportsbook', summary.lines.by_sportsbook);
    if (entries(summary.lines.no_line_reasons).length > 0) s.counts('Players without a line', summary.lines.no_line_reasons);
  }
  if (summary?.gate) {
    s.counts('Gate outcomes', summary.gate.by_outcome);
    s.counts('Gate reasons', summary.gate.by_reason, 34);
  }
}

/** Time per phase, the query count, warnings, and why the batch ended as it did. */
function tailSections(s: Sections, status: BatchStatus): void {
  const summary = status.summary;
  s.heading('Time per phase (ms)');
  for (const [k, v] of Object.entries(summary?.phase_ms ?? {})) s.line(`  ${pad(k, 26)}${lpad(String(v), 7)}`);
  s.line(`  ${pad('consolidation', 26)}${lpad(show(status.consolidation?.ms), 7)}`);
  const ended = Date.parse(String(status.ended_at)) - Date.parse(status.started_at);
  const total = Number.isFinite(ended) ? ended : Math.round(status.progress.elapsed_seconds * 1000);
  s.line(`  ${pad(Number.isFinite(ended) ? 'start → ended' : 'start → now', 26)}${lpad(String(total), 7)}`);
  s.line(`Warehouse queries for /start: ${show(summary?.warehouse_queries)}`);

  const warnings = [...(summary?.warnings ?? []), ...(status.consolidation?.warnings ?? [])];
  if (warnings.length > 0) {
    s.heading('Warnings');
    for (const w of warnings) s.line(`  ! ${w}`);
  }
  if (status.status !== 'complete' && status.closing) {
    s.heading('Why it ended this way');
    for (const r of status.closing.reasons) s.line(`  ! ${r}`);
  }
}

function consolidationSection(s: Sections, status: BatchStatus): void {
  const c = status.consolidation;
  if (!c) return;
  s.heading('Consolidation');
  if (c.verify)
    s.line(
      `  ${pad('staged rows visible', 26)}${lpad(`${c.verify.visible_rows}/${c.verify.reported_rows}`, 9)}${c.verify.waited_ms > 0 ? ` (waited ${c.verify.waited_ms} ms)` : ''}`,
    );
  s.line(`  ${pad('merge', 26)}${c.merge ? 'committed' : c.error ? `not committed: ${c.error}` : 'not run'}`);
  if (c.merge) {
    s.line(`  ${pad('rows merged', 26)}${lpad(c.merge.rows_merged, 9)}`);
    s.line(`  ${pad('rows deactivated', 26)}${lpad(c.merge.rows_deactivated, 9)}`);
    s.line(`  ${pad('rows accounted for', 26)}${lpad(c.merge.rows_accounted, 9)}`);
  }
  s.line(`  ${pad('duplicate active keys', 26)}${lpad(show(c.duplicate_active_keys), 9)}`);
  s.line(`  ${pad('attempts', 26)}${lpad(c.attempts, 9)}`);
  const closing = status.closing;
  if (closing)
    s.line(
      `  ${pad('phase-5 message', 26)}${closing.phase5_status}${closing.phase5_message_id ? '' : ` (not published yet${closing.phase5_error ? `: ${closing.phase5_error}` : ''})`}`,
    );
  if (c.checks) {
    const k = c.checks;
    s.line(
      `  champion ${k.champion}: ${k.rows} rows · avg pred−line ${show(k.avg_bias)} · OVER ${show(k.over_pct)}% · UNDER ${show(k.under_pct)}% · direction mismatches ${k.direction_mismatches}`,
    );
    for (const w of k.warnings) s.line(`  ! ${w}`);
  }
}

export async function renderReport(status: BatchStatus, warehouse: Warehouse): Promise<string> {
  const s = new Sections();
  headSections(s, status);
  const where = { d: param.date(status.game_date), b: param.string(status.batch_id) };
  const perModel = await warehouse.query({
    name: 'report.per_model',
    sql: `SELECT system_id, COUNT(*) AS n, COUNTIF(recommendation = 'OVER') AS overs, COUNTIF(recommendation = 'UNDER') AS unders,
      COUNTIF(is_actionable) AS actionable, ROUND(AVG(predicted_points - current_points_line), 2) AS bias
      FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = @d AND is_active = TRUE AND batch_id = @b
      GROUP BY system_id ORDER BY system_id`,
    params: where,
    datasetPrefix: status.dataset_prefix,
  });
  s.heading('Predictions per model (active rows of this batch)');
  s.line(
    `  ${pad('model', 28)}${lpad('rows', 6)}${lpad('OVER', 6)}${lpad('UNDER', 6)}${lpad('actionable', 11)}${lpad('avg pred−line', 15)}`,
  );
  for (const r of perModel) {
    s.line(
      `  ${pad(str(r, 'system_id') ?? '', 28)}${lpad(num(r, 'n') ?? 0, 6)}${lpad(num(r, 'overs') ?? 0, 6)}${lpad(num(r, 'unders') ?? 0, 6)}${lpad(num(r, 'actionable') ?? 0, 11)}${lpad(num(r, 'bias') ?? '-', 15)}`,
    );
  }

  const champion = status.summary?.models?.champion ?? null;
  if (champion) {
    const edges = await warehouse.query({
      name: 'report.top_edges',
      sql: `SELECT player_lookup, sportsbook, current_points_line, predicted_points, recommendation, line_margin
        FROM {{nba_predictions.player_prop_predictions}}
        WHERE game_date = @d AND is_active = TRUE AND batch_id = @b AND system_id = @s AND current_points_line IS NOT NULL
        ORDER BY ABS(line_margin) DESC, player_lookup LIMIT 10`,
      params: { ...where, s: param.string(champion) },
      datasetPrefix: status.dataset_prefix,
    });
    s.heading(`Ten largest edges (champion ${champion})`);
    s.line(`  ${pad('player', 26)}${pad('book', 13)}${lpad('line', 6)}${lpad('pred', 7)}${lpad('edge', 7)}  rec`);
    for (const r of edges) {
      s.line(
        `  ${pad(str(r, 'player_lookup') ?? '', 26)}${pad(str(r, 'sportsbook') ?? '', 13)}${lpad(num(r, 'current_points_line') ?? '', 6)}${lpad(num(r, 'predicted_points') ?? '', 7)}${lpad((num(r, 'line_margin') ?? 0).toFixed(1), 7)}  ${str(r, 'recommendation') ?? ''}`,
      );
    }
  }
  consolidationSection(s, status);
  tailSections(s, status);
  return s.out.join('\n');
}

/**
 * The report from a `/status` body alone: the same sections as `renderReport`, with the gate's verdicts per model and the
 * consolidation in place of the warehouse's per-model rows and edges.
 */
export function renderStatusReport(status: BatchStatus): string {
  const summary = status.summary;
  const s = new Sections();
  headSections(s, status);
  const perModel = Object.entries(summary?.gate?.per_model ?? {});
  if (perModel.length > 0) {
    const champion = summary?.models?.champion;
    s.heading('Gate verdicts per model (players)');
    s.line(`  ${pad('model', 34)}${lpad('predict', 8)}${lpad('skip', 6)}${lpad('block', 6)}`);
    for (const [model, v] of perModel)
      s.line(
        `  ${pad(model + (model === champion ? ' (champion)' : ''), 34)}${lpad(show(v.predict), 8)}${lpad(show(v.skip), 6)}${lpad(show(v.block), 6)}`,
      );
  }
  consolidationSection(s, status);
  tailSections(s, status);
  if (summary?.stall_reason) {
    s.heading('Problems');
    s.line(`  ! stalled: ${summary.stall_reason}`);
  }
  return s.out.join('\n');
}
