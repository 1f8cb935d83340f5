/**
 * The operator CLI for the rest of the day (issue 19) against the local stack: `check-lines`, `line-update`, `regenerate`
 * and `signal`, with the same exit codes and `--json` as the other commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { CONTROL_CHARS, cli, copySlate, holdingBus, type CliRun } from '../helpers/predict-cli.js';
import { addDays } from '../../shared/dates/game-date.js';
import { topicNames } from '../../shared/config/common.js';
import { TEST_TODAY } from '../helpers/clock.js';

const today = TEST_TODAY;
const HELD = addDays(today, 1);
let t: TestStack;
let env: Record<string, string>;
const runs: CliRun[] = [];

async function run(argv: string[]): Promise<CliRun> {
  const r = await cli([...argv, '--interval', '0.02'], env);
  runs.push(r);
  return r;
}

const jsonLines = (r: CliRun) =>
  r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  t = await startTestStack(
    { gameDate: today, players: 12, models: 2 },
    { wrapCoordinatorBus: holdingBus(topicNames('').request, new Set([HELD])) },
  );
  env = { COORDINATOR_URL: t.stack.coordinatorUrl, COORDINATOR_API_KEY: API_KEY };
  await copySlate(t.world, today, [HELD]);
  const res = await t.post('/start', { game_date: today });
  await waitForBatchEnd(t, String(res.body.batch_id));
  // player003's line moves 11.5 → 13.5.
  await t.world.warehouse.insert({
    name: 'move',
    table: 'nba_raw.odds_api_player_points_props',
    rows: [
      {
        game_id: `${today.replaceAll('-', '')}_G0`,
        game_date: today,
        player_lookup: 'player003',
        bookmaker: 'draftkings',
        points_line: 13.5,
        snapshot_timestamp: `${today}T18:00:00Z`,
        minutes_before_tipoff: 30,
      },
    ],
  });
});

afterAll(async () => {
  await t?.close();
});

describe('predict check-lines', () => {
  it('--dry-run lists the moved line and starts nothing; exit 0', async () => {
    const r = await run(['check-lines', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `${today}: 1 players to re-predict (0 new lines, 1 lines moved by ≥ 1) of 12 predicted — dry run, nothing started.`,
    );
    expect(r.stdout).toMatch(/player003\s+line_move\s+11\.5\s+13\.5\s+2\s+DRAFTKINGS/);
    const json = jsonLines(await run(['check-lines', '--dry-run', '--json']));
    expect(json.at(-1)).toMatchObject({ event: 'summary', exit_code: 0, status: 'dry_run', total_affected: 1 });
  });

  it('re-predicts the player and follows the batch to its end; then there is nothing left to do', async () => {
    const r = await run(['check-lines', '--json']);
    expect(r.code).toBe(0);
    const events = jsonLines(r);
    expect(events[0]).toMatchObject({ event: 'started', game_date: today, line_moves: 1, total_affected: 1, published: 1 });
    expect(events.at(-1)).toMatchObject({ event: 'summary', status: 'complete', exit_code: 0, purpose: 'line_check' });
    const again = await run(['check-lines']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${today}: 0 players to re-predict`);
  });
});

describe('predict line-update, regenerate, signal', () => {
  it('line-update re-predicts the named players; without --players it is a usage error', async () => {
    const r = await run(['line-update', 'TODAY', '--players', 'player002,player004']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Re-predicting 2 players of ' + today + ' (LINE_UPDATE)');
    expect(r.stdout).toMatch(/Result: COMPLETE \(exit 0\)/);
    const usage = await run(['line-update', 'TODAY']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('line-update needs the date and --players');
  });

  it('regenerate supersedes the date in the batch it prints; bad metadata exits 2; a busy date exits 4', async () => {
    const r = await run(['regenerate', today, '--reason', 'cli_test', '--metadata', '{"ticket":"NBA-7"}']);
    expect(r.code).toBe(0);
    const batchId = /in batch (\S+):/.exec(r.stdout)?.[1];
    expect(batchId).toBeDefined();
    const [audit] = await t.world.warehouse.query({
      name: 'audit',
      sql: `SELECT batch_id, reason, CAST(metadata AS VARCHAR) AS metadata FROM {{nba_predictions.prediction_regeneration_audit}}`,
    });
    expect(audit).toMatchObject({ batch_id: batchId, reason: 'cli_test' });
    expect(JSON.parse(String(audit?.metadata))).toEqual({ ticket: 'NBA-7' });
    expect((await run(['regenerate', today, '--metadata', '[1,2]'])).code).toBe(2);
    expect((await run(['regenerate'])).code).toBe(2);

    const started = await t.post('/start', { game_date: HELD });
    expect(started.status).toBe(202);
    const busy = await run(['regenerate', HELD]);
    expect(busy.code).toBe(4);
    expect(busy.stderr).toContain(`batch ${String(started.body.batch_id)} is already running for ${HELD}`);
  });

  it('signal prints the champion colour (exit 0); a date without a signal exits 1', async () => {
    const r = await run(['signal']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${today}: RED for catboost_v9_tiny — light slate: 1 games (≤ 4)`);
    const json = jsonLines(await run(['signal', '--json']));
    expect(json.at(-1)).toMatchObject({ event: 'summary', exit_code: 0, signal: 'RED', system_id: 'catboost_v9_tiny' });
    const none = await run(['signal', addDays(today, 2)]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no signal for ${addDays(today, 2)}`);
  });

  it('no piped output contained a control character', () => {
    for (const r of runs) expect(CONTROL_CHARS.test(r.stdout), r.stdout.slice(0, 200)).toBe(false);
  });
});
