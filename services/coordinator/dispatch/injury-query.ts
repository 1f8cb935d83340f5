/**
 * The injury re-check (original-worker §2.5), once per batch instead of once per request: one query for the latest
 * `nba_raw.nbac_injury_report` row of every candidate for the date.
 *   out → the player is not published (permanent skip `player_injury_out`);
 *   doubtful / questionable → published with the injury flag;
 *   anything else, or no report → published, no flag.
 * The latest report is the newest (report_date, report_hour): the original ordered by report_hour alone, so the previous
 * day's evening report beat the game day's morning one. Reports are read from the week before the game (the table is
 * partitioned by report_date; the league issues a game's reports the day before and on the day).
 */
import { param, type Warehouse } from '../../../shared/ports/warehouse.js';
import { addDays } from '../../../shared/dates/game-date.js';
import { reqStr, str } from '../../../shared/queries/row-values.js';

export const INJURY_REPORT_LOOKBACK_DAYS = 7;

export interface InjuryReport {
  /** Lower case, as the report says it: out, doubtful, questionable, probable, available; null when the row has none. */
  status: string | null;
  reason: string | null;
}

export type InjuryVerdict = 'skip' | 'warning' | 'ok';

/** What a status means for the prediction (the original's SKIP_STATUSES and WARNING_STATUSES). */
export function injuryVerdict(status: string | null | undefined): InjuryVerdict {
  const s = status?.trim().toLowerCase();
  if (s === 'out') return 'skip';
  if (s === 'doubtful' || s === 'questionable') return 'warning';
  return 'ok';
}

/** The injury fields a published request carries (written on its rows as injury_*_at_prediction). */
export function injuryFields(
  report: InjuryReport | undefined,
  checkedAt: string,
): {
  injury_status: string | null;
  injury_flag: boolean;
  injury_reason: string | null;
  injury_checked_at: string;
} {
  const verdict = injuryVerdict(report?.status);
  return {
    injury_status: report?.status ? report.status.trim().toUpperCase() : null,
    injury_flag: verdict !== 'ok',
    injury_reason: report?.reason ?? null,
    injury_checked_at: checkedAt,
  };
}

const SQL = `
SELECT player_lookup, injury_status, reason
FROM {{nba_raw.nbac_injury_report}}
WHERE report_date BETWEEN @lookback_start AND @game_date
  AND game_date = @game_date AND player_lookup IN UNNEST(@players)
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY player_lookup
  ORDER BY report_date DESC, report_hour DESC, processed_at DESC
) = 1`;

export async function loadInjuries(
  warehouse: Warehouse,
  gameDate: string,
  datasetPrefix: string,
  players: readonly string[],
): Promise<Map<string, InjuryReport>> {
  const out = new Map<string, InjuryReport>();
  if (players.length === 0) return out;
  const rows = await warehouse.query({
    name: 'injuries',
    sql: SQL,
    params: {
      game_date: param.date(gameDate),
      lookback_start: param.date(addDays(gameDate, -INJURY_REPORT_LOOKBACK_DAYS)),
      players: param.strings(players),
    },
    datasetPrefix,
  });
  for (const row of rows) {
    const status = str(row, 'injury_status');
    out.set(reqStr(row, 'player_lookup'), { status: status === null ? null : status.trim().toLowerCase(), reason: str(row, 'reason') });
  }
  return out;
}
