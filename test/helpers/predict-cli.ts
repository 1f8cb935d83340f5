/** Helpers for the operator CLI's end-to-end tests: a world with several slates, a bus that can hold a date, and runCli. */
import type { Bus, OutgoingMessage } from '../../shared/ports/bus.js';
import type { TinyWorld } from './tiny-world.js';
import { runCli } from '../../bin/predict/cli.js';
import { testClock } from './clock.js';

/** Copies the world's slate (schedule, context, lines, feature rows) from `from` to each of `to`, with new game ids. */
export async function copySlate(world: TinyWorld, from: string, to: readonly string[]): Promise<void> {
  const tables = [
    'nba_raw.nbac_schedule',
    'nba_analytics.upcoming_player_game_context',
    'nba_raw.odds_api_player_points_props',
    'nba_predictions.ml_feature_store_v2',
  ];
  for (const date of to) {
    for (const table of tables) {
      await world.warehouse.query({
        name: 'copy slate',
        sql: `INSERT INTO {{${table}}} SELECT * REPLACE (CAST('${date}' AS DATE) AS game_date, replace(game_id, '${from.replaceAll('-', '')}', '${date.replaceAll('-', '')}') AS game_id)
          FROM {{${table}}} WHERE game_date = CAST('${from}' AS DATE)`,
      });
    }
  }
}

/**
 * Wraps the coordinator's bus so prediction requests for the held dates are "published" but never delivered: the batch
 * stays running with nobody reporting, and its date stays busy — a worker that never answers.
 */
export function holdingBus(requestTopic: string, heldDates: ReadonlySet<string>): (bus: Bus) => Bus {
  return (bus) => ({
    async publish(topic: string, messages: OutgoingMessage[]) {
      if (topic === requestTopic && messages.length > 0 && messages.every((m) => heldDates.has(m.attributes?.game_date ?? ''))) {
        return messages.map((_, i) => ({ ok: true as const, messageId: `held-${Date.now()}-${i}` }));
      }
      return bus.publish(topic, messages);
    },
    close: () => bus.close(),
  });
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process with captured output, as a pipe (not a terminal) unless `isTTY`. */
export async function cli(argv: string[], env: Record<string, string | undefined>, isTTY = false): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s), isTTY },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env,
    isTTY,
    now: () => testClock().now(),
  });
  return { code, stdout, stderr };
}

/** Control characters other than newline (ANSI escapes, carriage returns, tabs …). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point: the CLI must print none
export const CONTROL_CHARS = /[\u0000-\u0009\u000B-\u001F\u007F]/;
