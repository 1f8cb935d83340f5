/**
 * The world and the checks shared by the real-process crash files (crash-recovery, drain-and-restart): a pair of
 * processes on its own DuckDB file with P players, M models and 3 players per message, one date per scenario, and the end
 * every crash must still reach. `crashSuite(prefix)` builds the services once for the file and cleans up after it.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildServices, ProcessPair, type PairOptions } from './process-pair.js';
import { addDays } from '../../shared/dates/game-date.js';
import type { BatchStatus } from '../../shared/contracts/status.js';
import { TEST_TODAY } from './clock.js';

export const PLAYERS = 24;
export const MODELS = 2;
export const PER_MESSAGE = 3;
export const MESSAGES = PLAYERS / PER_MESSAGE;
/** One date per scenario, so scenarios never meet (each date is claimed by one batch at a time). */
export const dates = Array.from({ length: 12 }, (_, i) => addDays(TEST_TODAY, i));

let dir = '';
const pairs: ProcessPair[] = [];

/** Registers the file's beforeAll (one copy of the build) and afterAll (every pair's processes and files gone). */
export function crashSuite(prefix: string): void {
  beforeAll(() => {
    // This module outlives the file (vitest.config.ts: isolate false): start from nothing.
    pairs.length = 0;
    dir = buildServices(prefix);
  }, 180_000);
  afterAll(async () => {
    await Promise.all(pairs.map((p) => p.cleanup()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

export async function pair(opts: Partial<PairOptions> = {}): Promise<ProcessPair> {
  const p = await ProcessPair.create({
    dir,
    dates,
    players: PLAYERS,
    models: MODELS,
    playersPerGame: 8,
    coordinatorEnv: { PLAYERS_PER_MESSAGE: String(PER_MESSAGE), LOCAL_BUS_MAX_DELIVERY_ATTEMPTS: '100' },
    ...opts,
  });
  pairs.push(p);
  return p;
}

/** POST /start that the coordinator may die in: the answer, or null when the connection broke. */
export async function startThatMayDie(p: ProcessPair, gameDate: string): Promise<{ status: number; body: Record<string, unknown> } | null> {
  return p.api('POST', '/start', { game_date: gameDate }).catch(() => null);
}

/**
 * The end every crash must still reach: complete, each published player's predictions merged exactly once (one active row
 * per player × model, all of this batch, no other rows for the date), one phase-5 `success`, one run-history row.
 */
export async function expectMergedOnce(p: ProcessPair, end: BatchStatus): Promise<void> {
  expect(end).toMatchObject({
    status: 'complete',
    closed: true,
    progress: { expected: PLAYERS, completed: PLAYERS, failed: 0 },
    closing: { phase5_status: 'success' },
  });
  const rows = await p.predictions(end.game_date);
  const active = rows.filter((r) => r.is_active === true);
  const keys = active.map((r) => `${String(r.player_lookup)}|${String(r.system_id)}`);
  expect(new Set(keys).size).toBe(keys.length);
  expect(active).toHaveLength(PLAYERS * MODELS);
  expect(rows).toHaveLength(PLAYERS * MODELS);
  expect(new Set(active.map((r) => r.batch_id))).toEqual(new Set([end.batch_id]));
  expect(new Set(active.map((r) => r.player_lookup))).toEqual(new Set(p.world.players));
  expect(end.consolidation).toMatchObject({
    duplicate_active_keys: 0,
    merge: { rows_accounted: PLAYERS * MODELS },
    verify: { missing_rows: 0 },
  });
  const phase5 = await p.phase5(end.batch_id);
  expect(phase5.map((m) => m.status)).toEqual(['success']);
  expect(await p.runHistory(end.batch_id)).toEqual([{ run_id: end.batch_id, status: 'success' }]);
}
