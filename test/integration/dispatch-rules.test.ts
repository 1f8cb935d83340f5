/** Every rule of /start dispatch, on rows the test controls (issue 4). */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { createTinyWorld } from '../helpers/tiny-world.js';
import { QueryLog } from '../../shared/adapters/instrumented-warehouse.js';
import { lookupLines } from '../../services/coordinator/dispatch/line-queries.js';
import { loadCandidates } from '../../services/coordinator/dispatch/player-query.js';
import { addDays } from '../../shared/dates/game-date.js';
import { WarehouseError, type Row, type Warehouse } from '../../shared/ports/warehouse.js';
import type { Bus } from '../../shared/ports/bus.js';
import { overrideWarehouse } from '../helpers/warehouse-faults.js';
import { TEST_TODAY } from '../helpers/clock.js';
import { losingBus } from '../helpers/bus-faults.js';
import { topicNames } from '../../shared/config/common.js';

const today = TEST_TODAY;
const at = (hh: string) => `${today}T${hh}:00:00Z`;
let t: TestStack | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('players', () => {
  it('excludes out and doubtful case-insensitively, judged on each player’s latest context row', async () => {
    const world = await createTinyWorld({ gameDate: today, players: 0 });
    const row = (player: string, status: string | null, created: string): Row => ({
      player_lookup: player,
      game_id: 'g1',
      game_date: today,
      player_status: status,
      is_production_ready: true,
      has_prop_line: true,
      avg_minutes_per_game_last_7: 30,
      created_at: created,
    });
    await world.warehouse.insert({
      name: 'ctx',
      table: 'nba_analytics.upcoming_player_game_context',
      rows: [
        row('lowerout', 'out', at('10')),
        row('upperdoubtful', 'DOUBTFUL', at('10')),
        row('questionable', 'Questionable', at('10')),
        row('healthy', null, at('10')),
        row('nowout', null, at('08')),
        row('nowout', 'out', at('11')),
        row('backnow', 'out', at('08')),
        row('backnow', 'available', at('11')),
      ],
    });
    const players = (await loadCandidates(world.warehouse, today, '', undefined)).map((c) => c.player_lookup).sort();
    expect(players).toEqual(['backnow', 'healthy', 'questionable']);
    await world.warehouse.close();
  });
});

describe('lines: three queries, ranked books, BettingPros only for the rest', () => {
  it('applies the OddsAPI ranking after the 5.0 floor, falls back to BettingPros points/over/active rows, keeps a genuine 20.0 and explains the misses', async () => {
    const world = await createTinyWorld({ gameDate: today, players: 0 });
    const odds = (player: string, book: string, line: number, snap: string): Row => ({
      game_date: today,
      player_lookup: player,
      bookmaker: book,
      points_line: line,
      snapshot_timestamp: snap,
      minutes_before_tipoff: 90,
    });
    const bp = (player: string, book: string, line: number, market = 'points', side = 'over', active = true): Row => ({
      game_date: today,
      player_lookup: player,
      market_type: market,
      bet_side: side,
      bookmaker: book,
      points_line: line,
      is_active: active,
      created_at: at('09'),
    });
    await world.warehouse.insert({
      name: 'odds',
      table: 'nba_raw.odds_api_player_points_props',
      rows: [
        odds('dkrebound', 'DraftKings', 4.5, at('10')), // a rebounds line mislabelled as points, on the top book
        odds('dkrebound', 'fanduel', 22.5, at('09')),
        odds('newest', 'draftkings', 18.5, at('08')),
        odds('newest', 'draftkings', 19.5, at('10')),
        odds('newest', 'fanduel', 25.5, at('11')),
        odds('twenty', 'betmgm', 20.0, at('10')),
        odds('caesarsonly', 'caesars', 11.5, at('10')),
        odds('onlylow', 'draftkings', 3.5, at('10')),
      ],
    });
    await world.warehouse.insert({
      name: 'bp',
      table: 'nba_raw.bettingpros_player_points_props',
      rows: [
        bp('caesarsonly', 'DraftKings', 30.5), // OddsAPI has this player: BettingPros must not be consulted
        bp('bponly', 'BettingPros Consensus', 14.5),
        bp('bponly', 'FanDuel', 15.5),
        bp('bponly', 'DraftKings', 9.5, 'rebounds'),
        bp('bponly', 'DraftKings', 16.5, 'points', 'under'),
        bp('bponly', 'DraftKings', 17.5, 'points', 'over', false),
      ],
    });
    const log = new QueryLog(world.warehouse);
    const players = ['dkrebound', 'newest', 'twenty', 'caesarsonly', 'bponly', 'onlylow', 'nobody'];
    const { lines, missing } = await lookupLines(log, today, '', players);
    expect(lines.get('dkrebound')).toMatchObject({
      line_value: 22.5,
      sportsbook: 'FANDUEL',
      line_source_api: 'ODDS_API',
      was_line_fallback: true,
    });
    expect(lines.get('newest')).toMatchObject({
      line_value: 19.5,
      sportsbook: 'DRAFTKINGS',
      was_line_fallback: false,
      line_minutes_before_game: 90,
    });
    expect(lines.get('twenty')).toMatchObject({ line_value: 20.0, sportsbook: 'BETMGM' });
    expect(lines.get('caesarsonly')).toMatchObject({ line_value: 11.5, sportsbook: 'CAESARS', line_source_api: 'ODDS_API' });
    expect(lines.get('bponly')).toMatchObject({
      line_value: 15.5,
      sportsbook: 'FANDUEL',
      line_source_api: 'BETTINGPROS',
      line_minutes_before_game: null,
    });
    expect(missing.get('onlylow')).toMatchObject({ reason: 'lines filtered out', detail: expect.stringContaining('1 below 5') });
    expect(missing.get('nobody')).toMatchObject({ reason: 'not offered' });
    expect(log.entries.map((e) => e.name)).toEqual(['lines.odds_api', 'lines.bettingpros', 'lines.diagnostic']);
    await world.warehouse.close();
  });
});

describe('/start failure and isolation rules', () => {
  it('a transient warehouse failure in the line step answers 503 naming the query, publishes nothing, ends the batch failed and releases the date', async () => {
    let fail = true;
    const wrap = (inner: Warehouse): Warehouse =>
      overrideWarehouse(inner, {
        query: (q) =>
          fail && q.name === 'lines.odds_api'
            ? Promise.reject(new WarehouseError(q.name, 'backend unavailable', 'QUERY_FAILED', { retryable: true }))
            : inner.query(q),
      });
    t = await startTestStack({ gameDate: today, players: 5 }, { wrapWarehouse: wrap });
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'error', error: 'WAREHOUSE_QUERY_FAILED', message: 'lines.odds_api: backend unavailable' });
    expect(t.stack.bus.published(t.stack.topics.request)).toHaveLength(0);
    const failed = (await t.get(`/status?game_date=${today}`)).body;
    expect(failed).toMatchObject({
      status: 'failed',
      closed: true,
      closing: { phase5_status: 'failed', reasons: ['lines.odds_api: backend unavailable'] },
    });
    fail = false;
    const again = await t.post('/start', { game_date: today });
    expect(again.status).toBe(202);
    await waitForBatchEnd(t, String(again.body.batch_id));
  });

  it('a prefixed run reads and writes only prefixed tables, staging and consolidation included', async () => {
    let log: QueryLog | undefined;
    t = await startTestStack({ gameDate: today, players: 6, datasetPrefix: 'test1' }, { wrapWarehouse: (w) => (log = new QueryLog(w)) });
    log!.clear();
    const res = await t.post('/start', { game_date: today, dataset_prefix: 'test1' });
    expect(res.status).toBe(202);
    const end = await waitForBatchEnd(t, String(res.body.batch_id));
    expect(end).toMatchObject({ status: 'complete', consolidation: { merge: { rows_merged: 18, rows_accounted: 18 } } });
    const touched = log!.tablesTouched();
    expect(touched).toEqual(
      expect.arrayContaining(['test1_nba_predictions.prediction_staging', 'test1_nba_predictions.player_prop_predictions']),
    );
    expect(touched.filter((name) => !name.startsWith('test1_'))).toEqual([]);
    const message = t.stack.bus.published(t.stack.topics.phase5)[0]?.data as Record<string, unknown>;
    expect(message.output_dataset).toBe('test1_nba_predictions');
  });

  it('fails the completeness gate with 503 DATA_INCOMPLETE unless skipped', async () => {
    t = await startTestStack({ gameDate: today, players: 3 });
    await t.world.warehouse.query({ name: 'wipe', sql: 'DELETE FROM {{nba_analytics.player_game_summary}} WHERE 1 = 1' });
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'DATA_INCOMPLETE', details: { final_games: 7, analysed_games: 0, coverage_pct: 0 } });
    const skipped = await t.post('/start', { game_date: today, skip_completeness_check: true });
    expect(skipped.status).toBe(202);
    await waitForBatchEnd(t, String(skipped.body.batch_id));
  });

  it('answers 200 no_games_scheduled for an empty date, and 404 when games exist but no players do; a backfill counts the first done and runs the second again', async () => {
    t = await startTestStack({ gameDate: today, players: 3 });
    const tomorrowish = (await t.post('/start', { game_date: 'TOMORROW' })).body;
    expect(tomorrowish).toMatchObject({ status: 'no_games_scheduled' });
    // What a backfill (CLI or the curl loop) reads for the date: complete, so it is done; phase 5 said there was no data.
    const noGames = (await t.get(`/status?game_date=${String(tomorrowish.game_date)}`)).body;
    expect(noGames).toMatchObject({ status: 'complete', closed: true, closing: { phase5_status: 'no_data' } });
    await t.world.warehouse.query({ name: 'wipe', sql: 'DELETE FROM {{nba_analytics.upcoming_player_game_context}} WHERE 1 = 1' });
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(404);
    // Games but no candidates (Phase 3 not loaded yet): failed, so a resumed backfill runs the date again; the date is free.
    const noPlayers = (await t.get(`/status?game_date=${today}`)).body;
    expect(noPlayers).toMatchObject({ status: 'failed', closed: true, closing: { phase5_status: 'no_data' } });
    expect((await t.post('/start', { game_date: today })).status).toBe(404);
  });

  it('require_real_lines skips players without a line with reason no_prop_line', async () => {
    t = await startTestStack({ gameDate: today, players: 4 });
    await t.world.warehouse.query({
      name: 'drop',
      sql: `DELETE FROM {{nba_raw.odds_api_player_points_props}} WHERE player_lookup = 'player001'`,
    });
    const res = await t.post('/start', { game_date: today, require_real_lines: true });
    expect(res.body).toMatchObject({ published: 3, summary: { run_mode: 'FIRST' } });
    const end = await waitForBatchEnd(t, String(res.body.batch_id));
    const players = (await t.get(`/status?batch_id=${String(end.batch_id)}&players=true`)).body.players as Array<Record<string, unknown>>;
    expect(players.find((p) => p.player_lookup === 'player001')).toMatchObject({
      outcome: 'skipped',
      reason: 'no_prop_line (not offered)',
    });
  });

  it('a message the bus fails makes its player a failed player: the batch expects only what was published and ends partial, never success', async () => {
    const first = (m: { data: unknown }) => (m.data as { players: Array<{ player_lookup: string }> }).players[0]?.player_lookup;
    const failing = (bus: Bus): Bus => ({
      publish: async (topic, messages) => {
        if (topic !== t!.stack.topics.request) return bus.publish(topic, messages);
        const outcomes = await bus.publish(
          topic,
          messages.filter((m) => first(m) !== 'player002'),
        );
        let i = 0;
        return messages.map((m) =>
          first(m) === 'player002' ? { ok: false as const, error: 'deadline exceeded' } : (outcomes[i++] as (typeof outcomes)[number]),
        );
      },
      close: () => bus.close(),
    });
    t = await startTestStack({ gameDate: today, players: 4 }, { wrapCoordinatorBus: failing, env: { PLAYERS_PER_MESSAGE: '1' } });
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ published: 3, publish_failed: 1, total_requests: 4 });
    expect((res.body.summary as { gate: { by_outcome: { publish_failed?: number } } }).gate.by_outcome.publish_failed).toBe(1);
    const end = await waitForBatchEnd(t, String(res.body.batch_id));
    expect(end).toMatchObject({
      status: 'partial',
      progress: { expected: 3, completed: 3, failed: 1 },
      closing: { phase5_status: 'partial', reasons: ["1 players' requests could not be published"] },
    });
    const phase5 = t.stack.bus.published(t.stack.topics.phase5).map((m) => m.data as Record<string, unknown>);
    expect(phase5).toMatchObject([{ status: 'partial', records_failed: 1, metadata: { failed_players: 1 } }]);
    const players = (await t.get(`/status?batch_id=${String(end.batch_id)}&players=true`)).body.players as Array<Record<string, unknown>>;
    expect(players.find((p) => p.player_lookup === 'player002')).toMatchObject({
      outcome: 'publish_failed',
      reason: 'publish_failed: deadline exceeded',
      completion: null,
    });
  });

  it('a Pub/Sub outage during dispatch (every publish failing) answers 503, and the batch ends failed with a failed phase-5 message', async () => {
    const down = (bus: Bus): Bus => ({
      publish: async (topic, messages) =>
        topic === t!.stack.topics.request
          ? messages.map(() => ({ ok: false as const, error: 'UNAVAILABLE: connection refused' }))
          : bus.publish(topic, messages),
      close: () => bus.close(),
    });
    t = await startTestStack({ gameDate: today, players: 4 }, { wrapCoordinatorBus: down });
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      error: 'PUBLISH_FAILED',
      message: "none of the 4 players' requests could be published: UNAVAILABLE: connection refused",
    });
    const end = await waitForBatchEnd(t, String(res.body.batch_id));
    expect(end).toMatchObject({
      status: 'failed',
      progress: { expected: 0, failed: 4 },
      closing: { phase5_status: 'failed', reasons: ["none of the 4 players' requests could be published"] },
    });
    expect(t.stack.bus.published(t.stack.topics.phase5).map((m) => (m.data as Record<string, unknown>).status)).toEqual(['failed']);
    // The date is free again: the next /start (the outage over) runs.
    expect(await t.stack.batches.leaseHolder(today)).toBeNull();
  });
});

describe('player cap', () => {
  it('keeps at most 500 players, those with the most recent minutes', async () => {
    const world = await createTinyWorld({ gameDate: today, players: 510 });
    const candidates = await loadCandidates(world.warehouse, today, '', undefined);
    expect(candidates).toHaveLength(500);
    const minutes = candidates.map((c) => c.projected_minutes);
    expect(minutes).toEqual([...minutes].sort((a, b) => b - a));
    expect(Math.min(...minutes)).toBeGreaterThanOrEqual(21); // tiny world minutes run 30 … 21; the cut drops ten 21s
    await world.warehouse.close();
  });
});

describe('postponements', () => {
  it('a postponed game on the date is a warning in the summary, never a block, and can be skipped', async () => {
    t = await startTestStack({ gameDate: today, players: 3 });
    await t.world.warehouse.insert({
      name: 'postpone',
      table: 'nba_orchestration.game_postponements',
      rows: [
        { game_id: 'G9', original_date: today, status: 'confirmed', detection_details: '{"matchup":"LAL @ GSW"}' },
        { game_id: 'G8', original_date: today, status: 'resolved' },
      ],
    });
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(202);
    const warnings = (res.body.summary as { warnings: string[] }).warnings;
    expect(warnings.filter((w) => w.startsWith('postponed games'))).toEqual([`postponed games on ${today}: G9 {"matchup":"LAL @ GSW"}`]);
    await waitForBatchEnd(t, String(res.body.batch_id));
    const skipped = await t.post('/start', { game_date: today, skip_postponement_check: true, prediction_run_mode: 'LINE_UPDATE' });
    expect((skipped.body.summary as { warnings: string[] }).warnings.some((w) => w.startsWith('postponed'))).toBe(false);
    await waitForBatchEnd(t, String(skipped.body.batch_id));
  });
});

describe('injury re-check (once per batch, in the coordinator)', () => {
  it('skips OUT players with player_injury_out, flags DOUBTFUL/QUESTIONABLE, takes the newest report by date then hour, and writes the injury columns', async () => {
    t = await startTestStack({ gameDate: today, players: 5 });
    const yesterday = addDays(today, -1);
    const report = (player: string, status: string | null, reportDate: string, hour: number, reason: string | null = null): Row => ({
      report_date: reportDate,
      report_hour: hour,
      game_date: today,
      game_id: t!.world.gameIds[0] as string,
      team: 'AAA',
      player_lookup: player,
      injury_status: status,
      reason,
    });
    await t.world.warehouse.insert({
      name: 'injuries',
      table: 'nba_raw.nbac_injury_report',
      rows: [
        report('player000', 'out', today, 9, 'Left Knee - Soreness'),
        report('player001', 'out', today, 8),
        report('player001', 'Questionable', today, 13, 'Illness'),
        // The previous evening's report (hour 20) is older than the game day's morning one (hour 10).
        report('player002', 'out', yesterday, 20),
        report('player002', 'available', today, 10),
        report('player003', 'doubtful', today, 11, 'Ankle'),
        report('player004', 'out', today, 9, 'another game day'),
      ].map((r, i) => (i === 6 ? { ...r, game_date: addDays(today, 1) } : r)),
    });
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ total_requests: 5, published: 4 });
    const end = await waitForBatchEnd(t, String(res.body.batch_id));
    const players = (await t.get(`/status?batch_id=${String(end.batch_id)}&players=true`)).body.players as Array<Record<string, unknown>>;
    expect(players.find((p) => p.player_lookup === 'player000')).toMatchObject({ outcome: 'skipped', reason: 'player_injury_out' });
    const rows = await t.world.warehouse.query({
      name: 'rows',
      sql: `SELECT DISTINCT player_lookup, injury_status_at_prediction AS s, injury_flag_at_prediction AS f, injury_reason_at_prediction AS r, injury_checked_at IS NOT NULL AS checked
            FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = '${today}' ORDER BY player_lookup`,
    });
    expect(rows).toEqual([
      { player_lookup: 'player001', s: 'QUESTIONABLE', f: true, r: 'Illness', checked: true },
      { player_lookup: 'player002', s: 'AVAILABLE', f: false, r: null, checked: true },
      { player_lookup: 'player003', s: 'DOUBTFUL', f: true, r: 'Ankle', checked: true },
      { player_lookup: 'player004', s: null, f: false, r: null, checked: true },
    ]);
  });

  it('is one query for all players: the count stays constant as the slate grows', async () => {
    const counts: number[] = [];
    for (const players of [4, 120]) {
      let log: QueryLog | undefined;
      // Counted once /start answered: the request messages are accepted and dropped, so no worker predicts the batch
      // while the stack closes (closing waits for pushes in flight).
      t = await startTestStack(
        { gameDate: today, players },
        { wrapWarehouse: (w) => (log = new QueryLog(w)), wrapCoordinatorBus: losingBus(topicNames('').request, 'all') },
      );
      log!.clear();
      const res = await t.post('/start', { game_date: today });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ published: players });
      counts.push(log!.named('injuries').length);
      await t.close();
      t = undefined;
    }
    expect(counts).toEqual([1, 1]);
  });
});

describe('what /start answers about an empty schedule and its request count', () => {
  it('an empty schedule with players in the context table still predicts them, with a warning', async () => {
    t = await startTestStack({ gameDate: today, players: 3 });
    await t.world.warehouse.query({ name: 'wipe', sql: `DELETE FROM {{nba_raw.nbac_schedule}} WHERE game_date = '${today}'` });
    const res = await t.post('/start', { game_date: today });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ published: 3, summary: { games: 0, context_games: 1 } });
    expect((res.body.summary as { warnings: string[] }).warnings).toContain(
      `the schedule has no games on ${today}, but the context table has 3 candidate players: predicting them`,
    );
    await waitForBatchEnd(t, String(res.body.batch_id));
  });

  it('total_requests counts the requests before the quality gate; published counts after it', async () => {
    t = await startTestStack({ gameDate: today, players: 4 });
    await t.world.warehouse.query({
      name: 'low',
      sql: `UPDATE {{nba_predictions.ml_feature_store_v2}} SET feature_quality_score = 60 WHERE player_lookup = 'player001'`,
    });
    const res = await t.post('/start', { game_date: today });
    expect(res.body).toMatchObject({ total_requests: 4, published: 3, summary: { total_requests: 4, published: 3 } });
    await waitForBatchEnd(t, String(res.body.batch_id));
  });
});
