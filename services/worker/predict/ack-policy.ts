/**
 * The worker's ack policy for a failure that may clear (a feature-store read, a staging write, every model failing):
 * redelivery (`retry`: 5xx) — except for a game date more than a day in the past, where nothing will clear it in time to
 * matter: the message is acked and its players reported `failed`, so a dead day's batch still ends (and says so).
 */
import type { PlayerJob } from '../../../shared/contracts/messages.js';
import type { PlayerCompletion } from '../../../shared/batch/batch-record.js';
import { addDays, etDate } from '../../../shared/dates/game-date.js';

export type TransientDecision = { kind: 'retry'; reason: string } | { kind: 'give_up'; completions: PlayerCompletion[] };

export function isStale(gameDate: string, now: Date): boolean {
  return gameDate < addDays(etDate(now), -1);
}

export function onTransientFailure(players: readonly PlayerJob[], reason: string, now: Date): TransientDecision {
  const gameDate = players[0]?.game_date;
  if (gameDate === undefined || !isStale(gameDate, now)) return { kind: 'retry', reason };
  return {
    kind: 'give_up',
    completions: players.map((p) => ({
      player_lookup: p.player_lookup,
      kind: 'failed',
      predictions: 0,
      staged_rows: 0,
      reason: `stale_transient: ${reason}`,
    })),
  };
}
