/**
 * One query for the enabled models and, for each, the players that already have an active prediction for the date: the
 * registry is the single source of the model list (no second in-code list), and the "already predicted" rule for every model
 * costs one query in total, not two per model.
 */
import { param, type Warehouse } from '../../../shared/ports/warehouse.js';
import { bool, reqStr, str } from '../../../shared/queries/row-values.js';

export interface EnabledModels {
  /** system ids (= model_id), champion first. */
  systems: string[];
  champion: string | null;
  /** system id → players with an active prediction for the date. */
  existing: Map<string, Set<string>>;
}

const SQL = `
WITH models AS (
  SELECT model_id, is_production
  FROM {{nba_predictions.model_registry}}
  WHERE enabled = TRUE AND status = 'active'
), existing AS (
  SELECT DISTINCT system_id, player_lookup
  FROM {{nba_predictions.player_prop_predictions}}
  WHERE game_date = @game_date AND is_active = TRUE AND player_lookup IN UNNEST(@players)
)
SELECT m.model_id, m.is_production, e.player_lookup
FROM models m LEFT JOIN existing e ON e.system_id = m.model_id`;

export async function loadEnabledModels(
  warehouse: Warehouse,
  gameDate: string,
  datasetPrefix: string,
  players: readonly string[],
): Promise<EnabledModels> {
  const rows = await warehouse.query({
    name: 'models_and_existing',
    sql: SQL,
    params: { game_date: param.date(gameDate), players: param.strings(players) },
    datasetPrefix,
  });
  const existing = new Map<string, Set<string>>();
  let champion: string | null = null;
  for (const row of rows) {
    const id = reqStr(row, 'model_id');
    const set = existing.get(id) ?? new Set<string>();
    existing.set(id, set);
    const player = str(row, 'player_lookup');
    if (player !== null) set.add(player);
    if (bool(row, 'is_production') === true) champion = id;
  }
  const systems = [...existing.keys()].sort((a, b) => (a === champion ? -1 : b === champion ? 1 : a.localeCompare(b)));
  return { systems, champion, existing };
}
