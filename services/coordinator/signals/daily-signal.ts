/**
 * The daily prediction signal (original-coordinator §4.4 `calculate_daily_signals`), recomputed for the date after every
 * successful consolidation, from every active row of the date (all batches), per model with at least 10 active predictions
 * that have a line:
 *   pct over / under    share of those predictions recommending OVER / UNDER
 *   high-edge picks     |predicted − line| ≥ 5
 *   slate size          games on the schedule for the date
 *   RED    the slate has ≤ 4 games, or pct over < 25
 *   YELLOW otherwise, when high-edge picks < 3 or pct over > 45
 *   GREEN  otherwise
 * The rule is `signalOf` (pure, tested at each boundary). Shares are compared exactly (counts, not rounded percentages).
 * Written idempotently: one MERGE keyed by (game_date, system_id), and in the same transaction the date's rows for models that
 * no longer qualify are deleted, so the table holds exactly one row per qualifying model however often it is recomputed.
 */
import { param, type Query, type QueryParam, type Warehouse } from '../../../shared/ports/warehouse.js';
import { num, reqStr, str } from '../../../shared/queries/row-values.js';

export const SIGNAL_RULES = {
  minPicks: 10,
  highEdgePoints: 5,
  lightSlateMaxGames: 4,
  redBelowPctOver: 25,
  yellowAbovePctOver: 45,
  yellowBelowHighEdge: 3,
  highVolumeFrom: 8,
} as const;

export type SignalColour = 'GREEN' | 'YELLOW' | 'RED';

export interface ModelAggregate {
  system_id: string;
  total: number;
  overs: number;
  unders: number;
  highEdge: number;
  avgConfidence: number | null;
  avgEdge: number | null;
  avgPvl: number | null;
}

export interface SignalRow {
  game_date: string;
  system_id: string;
  total_picks: number;
  high_edge_picks: number;
  pct_over: number;
  pct_under: number;
  avg_confidence: number | null;
  avg_edge: number | null;
  avg_pvl: number | null;
  skew_category: 'UNDER_HEAVY' | 'OVER_HEAVY' | 'BALANCED';
  volume_category: 'LOW' | 'NORMAL' | 'HIGH';
  slate_size: number;
  daily_signal: SignalColour;
  signal_explanation: string;
  batch_id: string | null;
}

const pct = (part: number, total: number): number => Math.round((part / total) * 1000) / 10;
const round2 = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);

/** The colour and categories of one model's day. `a.total` must be > 0. */
export function signalOf(
  a: Pick<ModelAggregate, 'total' | 'overs' | 'highEdge'>,
  slateSize: number,
): Pick<SignalRow, 'daily_signal' | 'signal_explanation' | 'skew_category' | 'volume_category'> {
  const R = SIGNAL_RULES;
  // Exact comparisons on counts: overs/total < 25 % ⇔ 100·overs < 25·total.
  const overBelowRed = 100 * a.overs < R.redBelowPctOver * a.total;
  const overAboveYellow = 100 * a.overs > R.yellowAbovePctOver * a.total;
  const skew_category = overBelowRed ? 'UNDER_HEAVY' : overAboveYellow ? 'OVER_HEAVY' : 'BALANCED';
  const volume_category = a.highEdge < R.yellowBelowHighEdge ? 'LOW' : a.highEdge >= R.highVolumeFrom ? 'HIGH' : 'NORMAL';
  const p = pct(a.overs, a.total);
  const red: string[] = [];
  if (slateSize <= R.lightSlateMaxGames) red.push(`light slate: ${slateSize} games (≤ ${R.lightSlateMaxGames})`);
  if (overBelowRed) red.push(`${p}% OVER (< ${R.redBelowPctOver}%)`);
  if (red.length > 0) return { daily_signal: 'RED', signal_explanation: red.join('; '), skew_category, volume_category };
  const yellow: string[] = [];
  if (a.highEdge < R.yellowBelowHighEdge) yellow.push(`${a.highEdge} high-edge picks (< ${R.yellowBelowHighEdge})`);
  if (overAboveYellow) yellow.push(`${p}% OVER (> ${R.yellowAbovePctOver}%)`);
  if (yellow.length > 0) return { daily_signal: 'YELLOW', signal_explanation: yellow.join('; '), skew_category, volume_category };
  return {
    daily_signal: 'GREEN',
    signal_explanation: `${p}% OVER, ${a.highEdge} high-edge picks, ${slateSize} games`,
    skew_category,
    volume_category,
  };
}

export function signalRows(
  gameDate: string,
  batchId: string | null,
  aggregates: readonly ModelAggregate[],
  slateSize: number,
): SignalRow[] {
  return aggregates
    .filter((a) => a.total >= SIGNAL_RULES.minPicks)
    .map((a) => ({
      game_date: gameDate,
      system_id: a.system_id,
      total_picks: a.total,
      high_edge_picks: a.highEdge,
      pct_over: pct(a.overs, a.total),
      pct_under: pct(a.unders, a.total),
      avg_confidence: round2(a.avgConfidence),
      avg_edge: round2(a.avgEdge),
      avg_pvl: round2(a.avgPvl),
      slate_size: slateSize,
      batch_id: batchId,
      ...signalOf(a, slateSize),
    }))
    .sort((x, y) => x.system_id.localeCompare(y.system_id));
}

const AGGREGATE_SQL = `
SELECT 'slate' AS kind, CAST(NULL AS STRING) AS system_id, COUNT(DISTINCT game_id) AS total, 0 AS overs, 0 AS unders, 0 AS high_edge,
  CAST(NULL AS FLOAT64) AS avg_confidence, CAST(NULL AS FLOAT64) AS avg_edge, CAST(NULL AS FLOAT64) AS avg_pvl
FROM {{nba_raw.nbac_schedule}}
WHERE game_date = @game_date
UNION ALL
SELECT 'model' AS kind, system_id, COUNT(*) AS total, COUNTIF(recommendation = 'OVER') AS overs, COUNTIF(recommendation = 'UNDER') AS unders,
  COUNTIF(ABS(predicted_points - current_points_line) >= @high_edge) AS high_edge,
  CAST(AVG(confidence_score) AS FLOAT64) AS avg_confidence,
  CAST(AVG(ABS(predicted_points - current_points_line)) AS FLOAT64) AS avg_edge,
  CAST(AVG(predicted_points - current_points_line) AS FLOAT64) AS avg_pvl
FROM {{nba_predictions.player_prop_predictions}}
WHERE game_date = @game_date AND is_active = TRUE AND current_points_line IS NOT NULL
GROUP BY system_id`;

export async function loadAggregates(
  warehouse: Warehouse,
  gameDate: string,
  datasetPrefix: string,
): Promise<{ slateSize: number; models: ModelAggregate[] }> {
  const rows = await warehouse.query({
    name: 'signals.aggregate',
    sql: AGGREGATE_SQL,
    params: { game_date: param.date(gameDate), high_edge: param.float(SIGNAL_RULES.highEdgePoints) },
    datasetPrefix,
  });
  let slateSize = 0;
  const models: ModelAggregate[] = [];
  for (const row of rows) {
    if (str(row, 'kind') === 'slate') {
      slateSize = num(row, 'total') ?? 0;
      continue;
    }
    models.push({
      system_id: reqStr(row, 'system_id'),
      total: num(row, 'total') ?? 0,
      overs: num(row, 'overs') ?? 0,
      unders: num(row, 'unders') ?? 0,
      highEdge: num(row, 'high_edge') ?? 0,
      avgConfidence: num(row, 'avg_confidence'),
      avgEdge: num(row, 'avg_edge'),
      avgPvl: num(row, 'avg_pvl'),
    });
  }
  return { slateSize, models };
}

const COLUMNS: ReadonlyArray<[keyof SignalRow, (v: SignalRow) => QueryParam]> = [
  ['game_date', (r) => param.date(r.game_date)],
  ['system_id', (r) => param.string(r.system_id)],
  ['total_picks', (r) => param.int(r.total_picks)],
  ['high_edge_picks', (r) => param.int(r.high_edge_picks)],
  ['pct_over', (r) => param.float(r.pct_over)],
  ['pct_under', (r) => param.float(r.pct_under)],
  ['avg_confidence', (r) => param.float(r.avg_confidence)],
  ['avg_edge', (r) => param.float(r.avg_edge)],
  ['avg_pvl', (r) => param.float(r.avg_pvl)],
  ['skew_category', (r) => param.string(r.skew_category)],
  ['volume_category', (r) => param.string(r.volume_category)],
  ['slate_size', (r) => param.int(r.slate_size)],
  ['daily_signal', (r) => param.string(r.daily_signal)],
  ['signal_explanation', (r) => param.string(r.signal_explanation)],
  ['batch_id', (r) => param.string(r.batch_id)],
];

const DELETE_STALE_SQL = `
DELETE FROM {{nba_predictions.daily_prediction_signals}}
WHERE game_date = @game_date AND system_id NOT IN UNNEST(@systems)`;

function mergeSql(rows: readonly SignalRow[]): { sql: string; params: Record<string, QueryParam> } {
  const params: Record<string, QueryParam> = {};
  const selects = rows.map((r, i) => {
    const cols = COLUMNS.map(([name, value]) => {
      params[`r${i}_${name}`] = value(r);
      return `@r${i}_${name} AS ${name}`;
    });
    return `SELECT ${cols.join(', ')}`;
  });
  const names = COLUMNS.map(([n]) => n);
  const updatable = names.filter((n) => n !== 'game_date' && n !== 'system_id');
  const sql = `
MERGE INTO {{nba_predictions.daily_prediction_signals}} T
USING (${selects.join('\n  UNION ALL ')}) S
ON T.game_date = S.game_date AND T.system_id = S.system_id
WHEN MATCHED THEN UPDATE SET ${updatable.map((n) => `${n} = S.${n}`).join(', ')}, calculated_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (${names.join(', ')}, calculated_at) VALUES (${names.map((n) => `S.${n}`).join(', ')}, CURRENT_TIMESTAMP())`;
  return { sql, params };
}

/** Recomputes the date's signals (one query, then one transaction). Returns the rows written. */
export async function computeDailySignals(
  warehouse: Warehouse,
  gameDate: string,
  datasetPrefix: string,
  batchId: string | null,
): Promise<SignalRow[]> {
  const { slateSize, models } = await loadAggregates(warehouse, gameDate, datasetPrefix);
  const rows = signalRows(gameDate, batchId, models, slateSize);
  const base = { game_date: param.date(gameDate) };
  const statements: Query[] = [
    {
      name: 'signals.delete_stale',
      sql: DELETE_STALE_SQL,
      params: { ...base, systems: param.strings(rows.map((r) => r.system_id)) },
      datasetPrefix,
    },
  ];
  if (rows.length > 0) statements.push({ name: 'signals.merge', ...mergeSql(rows), datasetPrefix });
  await warehouse.transaction('signals', statements);
  return rows;
}

export interface ChampionSignal {
  game_date: string;
  system_id: string;
  daily_signal: string;
  pct_over: number | null;
  pct_under: number | null;
  total_picks: number;
  high_edge_picks: number;
  skew_category: string | null;
  volume_category: string | null;
  slate_size: number | null;
  signal_explanation: string | null;
  calculated_at: string | null;
}

const CHAMPION_SIGNAL_SQL = `
SELECT s.game_date, s.system_id, s.daily_signal, s.pct_over, s.pct_under, s.total_picks, s.high_edge_picks, s.skew_category,
  s.volume_category, s.slate_size, s.signal_explanation, s.calculated_at
FROM {{nba_predictions.daily_prediction_signals}} s
JOIN {{nba_predictions.model_registry}} m ON m.model_id = s.system_id
WHERE s.game_date = @game_date AND m.is_production = TRUE AND m.enabled = TRUE AND m.status = 'active'
ORDER BY s.calculated_at DESC
LIMIT 1`;

/** The champion's signal row for the date, or null when it has none (fewer than 10 lined predictions, or no batch yet). */
export async function championSignal(warehouse: Warehouse, gameDate: string, datasetPrefix = ''): Promise<ChampionSignal | null> {
  const [row] = await warehouse.query({
    name: 'signals.champion',
    sql: CHAMPION_SIGNAL_SQL,
    params: { game_date: param.date(gameDate) },
    datasetPrefix,
  });
  if (!row) return null;
  return {
    game_date: reqStr(row, 'game_date'),
    system_id: reqStr(row, 'system_id'),
    daily_signal: reqStr(row, 'daily_signal'),
    pct_over: num(row, 'pct_over'),
    pct_under: num(row, 'pct_under'),
    total_picks: num(row, 'total_picks') ?? 0,
    high_edge_picks: num(row, 'high_edge_picks') ?? 0,
    skew_category: str(row, 'skew_category'),
    volume_category: str(row, 'volume_category'),
    slate_size: num(row, 'slate_size'),
    signal_explanation: str(row, 'signal_explanation'),
    calculated_at: str(row, 'calculated_at'),
  };
}
