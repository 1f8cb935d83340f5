import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_NAMES, featureColumn } from '../../shared/contracts/feature-contract.js';
import { findTable } from '../../shared/contracts/tables.js';
import type { Row } from '../../shared/ports/warehouse.js';
import { computeFeatures, type FeatureContext } from '../../bin/demo/features.js';
import { buildTrainingSet } from '../../bin/demo/demo-models.js';
import { generateWorld, WORLD_TABLE_IDS, type DemoWorld } from '../../bin/demo/world.js';
import { addDays } from '../../bin/demo/random.js';

const DATE = '2026-02-22';
const small = (seed = 7, games = 1): DemoWorld => generateWorld({ slateDates: [DATE], today: DATE, games, seed, historyDays: 40 });
const players = (rows: Row[]): Set<string> => new Set(rows.map((r) => String(r.player_lookup)));

describe('demo world generator', () => {
  const world = generateWorld({ slateDates: [DATE], today: DATE });
  const t = world.tables;

  it('is deterministic: same seed, same rows; another seed, other rows', () => {
    expect(small(7).tables).toEqual(small(7).tables);
    expect(small(8).tables['nba_analytics.upcoming_player_game_context']).not.toEqual(
      small(7).tables['nba_analytics.upcoming_player_game_context'],
    );
  });

  it('writes only columns of the schema, with every required column set', () => {
    for (const id of WORLD_TABLE_IDS) {
      const def = findTable(id);
      const names = new Set(def.columns.map((c) => c.name));
      const required = def.columns.filter((c) => c.required).map((c) => c.name);
      expect(t[id].length, id).toBeGreaterThan(0);
      const unknown = new Set<string>();
      const missing = new Set<string>();
      for (const row of t[id]) {
        for (const k of Object.keys(row)) if (!names.has(k)) unknown.add(k);
        for (const k of required) if (row[k] === null || row[k] === undefined) missing.add(k);
      }
      expect([...unknown], id).toEqual([]);
      expect([...missing], id).toEqual([]);
    }
  });

  it('gives a 1-game slate 30–35 candidates, and a 15-game slate about 500', () => {
    const one = small(7, 1);
    expect(one.info.games[DATE]).toBe(1);
    const n = players(one.tables['nba_analytics.upcoming_player_game_context']).size;
    expect(n).toBeGreaterThanOrEqual(30);
    expect(n).toBeLessThanOrEqual(35);
    const big = small(7, 15);
    expect(big.info.candidates[DATE]).toBeGreaterThanOrEqual(450);
    expect(big.info.candidates[DATE]).toBeLessThanOrEqual(525);
    const def = world.info.candidates[DATE] ?? 0;
    expect(def / 11).toBeGreaterThanOrEqual(30);
    expect(def / 11).toBeLessThanOrEqual(35);
  });

  it('files an injury report for every status: the latest says what the latest context row says, except a questionable player ruled out after it; an out player was questionable the evening before', () => {
    const ctx = t['nba_analytics.upcoming_player_game_context'];
    const latestContext = new Map<string, Row>();
    for (const r of ctx) {
      const seen = latestContext.get(String(r.player_lookup));
      if (!seen || String(r.created_at) > String(seen.created_at)) latestContext.set(String(r.player_lookup), r);
    }
    const reports = t['nba_raw.nbac_injury_report'];
    const order = (x: Row) => `${String(x.report_date)} ${String(x.report_hour).padStart(2, '0')}`;
    const latestReport = new Map<string, Row>();
    for (const r of reports) {
      const seen = latestReport.get(String(r.player_lookup));
      if (!seen || order(r) > order(seen)) latestReport.set(String(r.player_lookup), r);
    }
    const withStatus = [...latestContext.values()].filter((r) => r.player_status !== null);
    expect(withStatus.length).toBeGreaterThan(0);
    expect(new Set(latestReport.keys())).toEqual(new Set(withStatus.map((r) => String(r.player_lookup))));
    let ruledOutLate = 0;
    for (const r of withStatus) {
      const mine = reports.filter((x) => x.player_lookup === r.player_lookup).sort((a, b) => order(a).localeCompare(order(b)));
      const latest = mine.at(-1) as Row;
      expect(latest, String(r.player_lookup)).toMatchObject({ game_date: DATE, game_id: r.game_id, team: r.team_abbr, report_date: DATE });
      if (r.player_status === 'out')
        expect(mine.map((x) => [x.report_date, x.report_hour, x.injury_status])).toEqual([
          [addDays(DATE, -1), 17, 'questionable'],
          [DATE, 11, 'out'],
        ]);
      else if (latest.injury_status === 'out') {
        // Ruled out at 17:00 after the context rows (latest at 14:00) said questionable; the date is still to be played.
        expect([r.player_status, mine.map((x) => [x.report_hour, x.injury_status])]).toEqual([
          'questionable',
          [
            [11, 'questionable'],
            [17, 'out'],
          ],
        ]);
        ruledOutLate++;
      } else expect(mine.map((x) => [x.report_date, x.report_hour, x.injury_status])).toEqual([[DATE, 11, r.player_status]]);
    }
    expect(ruledOutLate).toBeGreaterThan(0);
  });

  it('has several context versions per player and lower-case injury statuses', () => {
    const ctx = t['nba_analytics.upcoming_player_game_context'];
    expect(ctx.length).toBeGreaterThan(players(ctx).size);
    const statuses = new Set(ctx.map((r) => r.player_status));
    for (const s of ['out', 'questionable']) expect(statuses.has(s)).toBe(true);
    for (const s of statuses) if (s !== null) expect(s).toBe(String(s).toLowerCase());
    const one = small(3, 1).tables['nba_analytics.upcoming_player_game_context'];
    expect(one.some((r) => r.player_status === 'out')).toBe(true);
  });

  it('has OddsAPI lines below 5.0, including a player whose only OddsAPI rows are below 5.0', () => {
    for (const w of [world, small(7, 1)]) {
      const odds = w.tables['nba_raw.odds_api_player_points_props'];
      expect(odds.some((r) => Number(r.points_line) < 5)).toBe(true);
      const byPlayer = new Map<string, number[]>();
      for (const r of odds)
        byPlayer.set(String(r.player_lookup), [...(byPlayer.get(String(r.player_lookup)) ?? []), Number(r.points_line)]);
      expect([...byPlayer.values()].some((ls) => ls.every((l) => l < 5))).toBe(true);
      const books = new Set(odds.map((r) => r.bookmaker));
      for (const b of ['draftkings', 'fanduel', 'betmgm', 'pointsbet', 'caesars']) expect(books.has(b)).toBe(true);
    }
  });

  it('covers about 75 % of candidates on OddsAPI, some only on BettingPros, a few nowhere', () => {
    const cands = players(t['nba_analytics.upcoming_player_game_context']);
    const odds = players(t['nba_raw.odds_api_player_points_props'].filter((r) => Number(r.points_line) >= 5));
    const bp = players(
      t['nba_raw.bettingpros_player_points_props'].filter(
        (r) => r.market_type === 'points' && r.bet_side === 'over' && r.is_active === true,
      ),
    );
    const coverage = [...cands].filter((p) => odds.has(p)).length / cands.size;
    expect(coverage).toBeGreaterThan(0.6);
    expect(coverage).toBeLessThan(0.9);
    expect([...cands].filter((p) => !players(t['nba_raw.odds_api_player_points_props']).has(p) && bp.has(p)).length).toBeGreaterThan(0);
    expect([...cands].filter((p) => odds.has(p) && bp.has(p)).length).toBeGreaterThan(0);
    expect([...cands].filter((p) => !odds.has(p) && !bp.has(p)).length).toBeGreaterThan(0);
    const bpRows = t['nba_raw.bettingpros_player_points_props'];
    expect(new Set(bpRows.map((r) => r.market_type))).toEqual(new Set(['points', 'rebounds', 'assists', 'threes']));
    expect(new Set(bpRows.map((r) => r.is_active))).toEqual(new Set([true, false]));
    expect(new Set(bpRows.map((r) => r.bookmaker)).has('BettingPros Consensus')).toBe(true);
  });

  it('has a genuine line of exactly 20.0 picked by the coordinator rules', () => {
    const rank = (b: string): number => {
      const i = ['draftkings', 'fanduel', 'betmgm', 'pointsbet', 'caesars'].indexOf(b);
      return i < 0 ? 99 : i;
    };
    const best = new Map<string, Row>();
    for (const r of t['nba_raw.odds_api_player_points_props']) {
      if (Number(r.points_line) < 5) continue;
      const cur = best.get(String(r.player_lookup));
      const better =
        !cur ||
        rank(String(r.bookmaker)) < rank(String(cur.bookmaker)) ||
        (rank(String(r.bookmaker)) === rank(String(cur.bookmaker)) && String(r.snapshot_timestamp) > String(cur.snapshot_timestamp));
      if (better) best.set(String(r.player_lookup), r);
    }
    expect([...best.values()].some((r) => r.points_line === 20)).toBe(true);
  });

  it('writes feature rows with exactly 55 feature columns, NULL for 41/42/47/50, and a realistic quality spread', () => {
    const fs = t['nba_predictions.ml_feature_store_v2'];
    const cands = players(t['nba_analytics.upcoming_player_game_context']).size;
    expect(fs.length).toBeLessThan(cands);
    expect(fs.length).toBeGreaterThan(0.88 * cands);
    for (const row of fs) {
      expect(Object.keys(row).filter((k) => /^feature_\d+_value$/.test(k))).toHaveLength(FEATURE_COUNT);
      for (const i of [41, 42, 47, 50]) expect(row[featureColumn(i)]).toBeNull();
      for (let i = 0; i < 25; i++) if (row.required_default_count === 0) expect(row[featureColumn(i)]).not.toBeNull();
    }
    const scores = fs.map((r) => Number(r.feature_quality_score));
    expect(scores.filter((s) => s >= 85).length / fs.length).toBeGreaterThan(0.6);
    expect(scores.some((s) => s >= 70 && s < 85)).toBe(true);
    expect(scores.some((s) => s < 70)).toBe(true);
    expect(new Set(fs.map((r) => r.quality_alert_level))).toEqual(new Set(['green', 'yellow', 'red']));
    expect(fs.some((r) => Number(r.matchup_quality_pct) < 50)).toBe(true);
    expect(fs.some((r) => Number(r.required_default_count) > 0)).toBe(true);
    expect(new Set(fs.map((r) => r.vegas_line_source))).toEqual(new Set(['odds_api', 'bettingpros', 'both', 'none']));
    for (const r of fs.filter((x) => x.vegas_line_source === 'none')) expect(r[featureColumn(25)]).toBeNull();
  });

  it('has a past schedule of finals with box scores and a slate of scheduled games, one postponed', () => {
    const sched = t['nba_raw.nbac_schedule'];
    const past = sched.filter((r) => r.game_status === 3);
    expect(past.length / 120).toBeGreaterThan(5);
    expect(past.length / 120).toBeLessThan(9);
    expect(sched.filter((r) => r.game_status === 1 && r.game_date === DATE)).toHaveLength(11);
    const summaryGames = new Set(t['nba_analytics.player_game_summary'].map((r) => r.game_id));
    expect(past.every((r) => summaryGames.has(r.game_id))).toBe(true);
    expect(t['nba_analytics.player_game_summary'].some((r) => r.is_dnp === true)).toBe(true);
    const [pp] = t['nba_orchestration.game_postponements'];
    expect(pp?.status).toBe('detected');
    expect((JSON.parse(String(pp?.detection_details)) as { matchup?: unknown }).matchup).toMatch(/^[A-Z]{3} @ [A-Z]{3}$/);
  });

  it('computeFeatures leaves dead and (without a line) vegas features absent', () => {
    const h = small(7, 1).history.find((p) => p.games.filter((g) => !g.isDnp).length > 10);
    expect(h).toBeDefined();
    const ctx: FeatureContext = { ...h!.contexts[h!.contexts.length - 1]!, line: null };
    const f = computeFeatures(h!.games, ctx);
    for (const name of [
      'spread_magnitude',
      'implied_team_total',
      'teammate_usage_available',
      'multi_book_line_std',
      'vegas_points_line',
    ] as const) {
      expect(f[name]).toBeUndefined();
    }
    expect(f.has_vegas_line).toBe(0);
    for (const name of FEATURE_NAMES.slice(0, 25)) expect(f[name], name).toBeTypeOf('number');
    const withLine = computeFeatures(h!.games, { ...ctx, line: { current: 14.5, opening: 15, books: [14.5, 15] } });
    expect(withLine).toMatchObject({ vegas_points_line: 14.5, vegas_opening_line: 15, vegas_line_move: -0.5, has_vegas_line: 1 });
  });

  it('keeps the special players on every 1-game slate, whatever the seed', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const w = generateWorld({ slateDates: [DATE], today: DATE, games: 1, seed, historyDays: 30 });
      const odds = w.tables['nba_raw.odds_api_player_points_props'];
      const valid = players(odds.filter((r) => Number(r.points_line) >= 5));
      const lowOnly = [...players(odds)].filter((p) => !valid.has(p));
      expect(lowOnly.length, `seed ${seed}`).toBeGreaterThan(0);
      expect(
        odds.some((r) => r.points_line === 20),
        `seed ${seed}`,
      ).toBe(true);
      const bp = players(
        w.tables['nba_raw.bettingpros_player_points_props'].filter(
          (r) => r.market_type === 'points' && r.bet_side === 'over' && r.is_active === true,
        ),
      );
      expect(
        [...bp].some((p) => !players(odds).has(p)),
        `seed ${seed}`,
      ).toBe(true);
      const ctx = w.tables['nba_analytics.upcoming_player_game_context'];
      expect(
        ctx.some((r) => r.player_status === 'out'),
        `seed ${seed}`,
      ).toBe(true);
      expect(w.tables['nba_orchestration.game_postponements']).toHaveLength(1);
    }
  });

  it('builds training rows from history with actual points as targets', () => {
    const ex = buildTrainingSet(small(7, 1).history);
    expect(ex.length).toBeGreaterThan(1000);
    expect(ex.every((e) => e.features.points_avg_last_10 !== undefined && Number.isInteger(e.points))).toBe(true);
    expect(ex.some((e) => e.features.vegas_points_line === undefined)).toBe(true);
  });
});

describe('slate size', () => {
  it('takes as many candidates a game as asked, up to both full rosters', () => {
    const full = generateWorld({ slateDates: [DATE], today: DATE, games: 2, seed: 7, historyDays: 40, candidatesPerGame: [36, 36] });
    expect(full.info.candidates[DATE]).toBe(72);
    expect(() =>
      generateWorld({ slateDates: [DATE], today: DATE, games: 2, seed: 7, historyDays: 40, candidatesPerGame: [30, 37] }),
    ).toThrow(/candidatesPerGame must be integers 1 ≤ min ≤ max ≤ 36, got 30–37/);
  });
});

describe('a season window (past dates played, today and tomorrow scheduled)', () => {
  const TODAY = '2026-03-10';
  const window = (from: string, to: string): string[] => {
    const out: string[] = [];
    for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
    return out;
  };
  const opts = { games: 3, seed: 11, historyDays: 30, candidatesPerGame: [20, 24] as const };
  const season = generateWorld({ ...opts, slateDates: window('2026-02-28', '2026-03-11'), today: TODAY });
  const t = season.tables;
  const on = (rows: Row[], date: string, column = 'game_date'): Row[] => rows.filter((r) => r[column] === date);

  it('gives every date of the window games, candidates, OddsAPI and BettingPros lines and feature rows', () => {
    expect(season.info.slateDates).toHaveLength(12);
    for (const date of season.info.slateDates) {
      expect(on(t['nba_raw.nbac_schedule'], date).length, date).toBeGreaterThan(0);
      expect(on(t['nba_analytics.upcoming_player_game_context'], date).length, date).toBeGreaterThan(0);
      expect(on(t['nba_raw.odds_api_player_points_props'], date).length, date).toBeGreaterThan(0);
      expect(new Set(on(t['nba_raw.bettingpros_player_points_props'], date).map((r) => r.market_type)).size, date).toBe(4);
      expect(on(t['nba_predictions.ml_feature_store_v2'], date).length, date).toBeGreaterThan(0);
      expect(on(t['nba_raw.nbac_schedule'], date), date).toHaveLength(3);
    }
  });

  it('plays every past date: final games, each with box scores for both rosters; today and tomorrow stay scheduled', () => {
    const boxScores = new Map<string, number>();
    for (const r of t['nba_analytics.player_game_summary']) boxScores.set(String(r.game_id), (boxScores.get(String(r.game_id)) ?? 0) + 1);
    for (const g of t['nba_raw.nbac_schedule']) {
      if (String(g.game_date) < TODAY) {
        expect(g.game_status, String(g.game_date)).toBe(3);
        expect(boxScores.get(String(g.game_id)), String(g.game_id)).toBe(2 * 18);
      } else {
        expect(g.game_status).toBe(1);
        expect(boxScores.has(String(g.game_id))).toBe(false);
      }
    }
    // One postponement a date: still detected on today and tomorrow; resolved on a past date, whose games were played.
    const postponements = t['nba_orchestration.game_postponements'];
    expect(
      postponements
        .filter((r) => r.status === 'detected')
        .map((r) => r.original_date)
        .sort(),
    ).toEqual([TODAY, '2026-03-11']);
    expect(postponements.filter((r) => r.status === 'resolved')).toHaveLength(season.info.slateDates.length - 2);
  });

  it('plays a past game as its slate said: a player whose latest status was out did not play', () => {
    const past = t['nba_analytics.upcoming_player_game_context'].filter((r) => String(r.game_date) < TODAY);
    const latest = new Map<string, Row>();
    for (const r of past) {
      const key = `${String(r.game_date)}|${String(r.player_lookup)}`;
      const cur = latest.get(key);
      if (!cur || String(r.created_at) > String(cur.created_at)) latest.set(key, r);
    }
    const out = [...latest.values()].filter((r) => r.player_status === 'out');
    expect(out.length).toBeGreaterThan(5);
    const box = new Map(t['nba_analytics.player_game_summary'].map((r) => [`${String(r.game_id)}|${String(r.player_lookup)}`, r]));
    for (const r of out) expect(box.get(`${String(r.game_id)}|${String(r.player_lookup)}`)?.is_dnp, String(r.player_lookup)).toBe(true);
  });

  it("builds each date's pre-game rows from the box scores before it (never its own result)", () => {
    const played = new Map<string, Row[]>();
    for (const r of t['nba_analytics.player_game_summary']) {
      if (r.is_dnp === true) continue;
      played.set(String(r.player_lookup), [...(played.get(String(r.player_lookup)) ?? []), r]);
    }
    const before = (player: string, date: string): Row[] => (played.get(player) ?? []).filter((r) => String(r.game_date) < date);
    const last7 = featureColumn(FEATURE_NAMES.indexOf('games_in_last_7_days'));
    let checked = 0;
    for (const date of ['2026-03-01', '2026-03-05', '2026-03-09', TODAY]) {
      for (const r of on(t['nba_predictions.ml_feature_store_v2'], date)) {
        const recent = before(String(r.player_lookup), date).filter((g) => String(g.game_date) >= addDays(date, -7));
        expect(r[last7], `${date} ${String(r.player_lookup)}`).toBe(recent.length);
        checked++;
      }
      for (const r of on(t['nba_analytics.upcoming_player_game_context'], date)) {
        const pts = before(String(r.player_lookup), date)
          .slice(-5)
          .map((g) => Number(g.points));
        const expected = pts.length === 0 ? null : Math.round((pts.reduce((a, b) => a + b, 0) / pts.length) * 10) / 10;
        expect(r.points_avg_last_5, `${date} ${String(r.player_lookup)}`).toBe(expected);
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('leaves every date before the old today unchanged when the same world is generated a day later, and longer', () => {
    const nextDay = generateWorld({ ...opts, slateDates: window('2026-02-28', '2026-03-12'), today: '2026-03-11' });
    for (const id of WORLD_TABLE_IDS) {
      const column = id === 'nba_orchestration.game_postponements' ? 'original_date' : 'game_date';
      const before = (w: DemoWorld): Row[] => w.tables[id].filter((r) => String(r[column]) < TODAY);
      expect(before(nextDay), id).toEqual(before(season));
    }
    // The old today keeps its pre-game rows (what was predicted on is still there) and gains its results.
    for (const id of [
      'nba_analytics.upcoming_player_game_context',
      'nba_raw.odds_api_player_points_props',
      'nba_raw.bettingpros_player_points_props',
      'nba_predictions.ml_feature_store_v2',
    ] as const) {
      expect(on(nextDay.tables[id], TODAY), id).toEqual(on(season.tables[id], TODAY));
    }
    expect(on(nextDay.tables['nba_raw.nbac_schedule'], TODAY).map((g) => g.game_id)).toEqual(
      on(t['nba_raw.nbac_schedule'], TODAY).map((g) => g.game_id),
    );
    expect(on(nextDay.tables['nba_raw.nbac_schedule'], TODAY).every((g) => g.game_status === 3)).toBe(true);
    expect(on(nextDay.tables['nba_orchestration.game_postponements'], TODAY, 'original_date').map((r) => r.status)).toEqual(['resolved']);
  });

  it('generates dates before lightBefore with their schedule only, and every later row exactly as a full run does', () => {
    const light = generateWorld({ ...opts, slateDates: window('2026-02-28', '2026-03-11'), today: TODAY, lightBefore: '2026-03-06' });
    for (const id of WORLD_TABLE_IDS) {
      const column = id === 'nba_orchestration.game_postponements' ? 'original_date' : 'game_date';
      const from = (w: DemoWorld, early: boolean): Row[] => w.tables[id].filter((r) => String(r[column]) < '2026-03-06' === early);
      expect(from(light, false), id).toEqual(from(season, false));
      expect(from(light, true), id).toEqual(id === 'nba_raw.nbac_schedule' ? from(season, true) : []);
    }
  });

  it('trains on the history before the window only', () => {
    const examples = buildTrainingSet(season.history, '2026-02-28');
    expect(examples.length).toBeGreaterThan(500);
    expect(examples.every((e) => e.gameDate < '2026-02-28')).toBe(true);
    expect(buildTrainingSet(season.history).some((e) => e.gameDate >= '2026-02-28')).toBe(true);
  });
});
