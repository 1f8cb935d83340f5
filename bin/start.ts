/**
 * `npm start`: the daily job on the embedded default. Seeds the demo world if needed (a season: the last 165 dates, or
 * `--days N` as `npm run seed` takes it, today and tomorrow; once, then only extended as days pass), starts both services
 * on loopback in this process (the local stack), POSTs /start for today, follows the batch with the operator CLI's own
 * follower until it is closed, and prints the report. `--serve` leaves the services up afterwards and prints curl
 * commands; `--date YYYY-MM-DD` runs another day of the window, without reseeding. State is durable in
 * `.local/warehouse.duckdb`: stop it at any time (Ctrl-C, SIGTERM) and the next start finishes what was in flight — a
 * batch the last run left open for the date is followed to its end instead of starting another.
 */
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLogger } from '../shared/logging/logger.js';
import { etDate, isValidIsoDate } from '../shared/dates/game-date.js';
import { DuckDbWarehouse } from '../shared/adapters/duckdb/duckdb-warehouse.js';
import { errorMessage } from '../shared/errors/error-message.js';
import { DAYS_OPTION, ensureDemoWorld } from './demo/seed-world.js';
import { startLocalStack, type LocalStack } from './local-stack.js';
import { renderReport } from './report.js';
import { CoordinatorClient } from './predict/client.js';
import { Output } from './predict/output.js';
import { followBatch, stateEnded, verdictOf } from './predict/follow.js';
import { getBatchStatus } from './predict/status-api.js';
import { requestStart } from './predict/start-request.js';
import { CliError } from './predict/errors.js';
import { cliUsage } from './cli-usage.js';

const usage = cliUsage(
  'npm start',
  `usage: npm start [-- options]
  --date YYYY-MM-DD   run that date of the demo window instead of today (ET), without reseeding
  --serve             keep both services up after the batch, and print curl commands for them
${DAYS_OPTION.usage}
  --games N           games per slate date, 1–15, when the demo world is (re)generated (default 11)`,
);

// eslint-disable-next-line complexity -- CLI entry: options, resume or start a batch, report the outcome, then serve or exit, read top to bottom
async function main(): Promise<number> {
  const { values } = usage.parsed(() =>
    parseArgs({
      options: {
        serve: { type: 'boolean', default: false },
        date: { type: 'string' },
        days: { type: 'string' },
        games: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    process.stdout.write(`${usage.text}\n`);
    return 0;
  }
  if (values.date !== undefined && !isValidIsoDate(values.date)) usage.fail(`--date must be a date YYYY-MM-DD, got '${values.date}'`);
  const pastDays = usage.int('days', values.days, DAYS_OPTION.min, DAYS_OPTION.max);
  const games = usage.int('games', values.games, 1, 15);
  const localDir = resolve('.local');
  mkdirSync(localDir, { recursive: true });
  const logPath = resolve(localDir, 'local-stack.log');
  const logger = createLogger({
    service: 'local-stack',
    level: 'info',
    destination: pino.destination({ dest: logPath, sync: false, mkdir: true }),
  });
  const today = etDate(new Date());
  const gameDate = values.date ?? today;
  const say = (line: string) => process.stdout.write(`${line}\n`);

  // Until the services are up there is nothing to drain: a signal stops at once (the file is transactional; the next start
  // seeds again whatever the world lacks).
  const early = (signal: NodeJS.Signals) => () => {
    say(`\n${signal}: stopped before the services were up; nothing was running. The next start seeds what is missing.`);
    process.exit(0);
  };
  const earlyHandlers = { SIGINT: early('SIGINT'), SIGTERM: early('SIGTERM') };
  process.once('SIGINT', earlyHandlers.SIGINT);
  process.once('SIGTERM', earlyHandlers.SIGTERM);
  // The banner only once a signal is handled: it is what says the start has begun (a test signals on it).
  say(`NBA points predictions — local stack (warehouse .local/warehouse.duckdb, logs ${logPath})`);
  const warehouse = await DuckDbWarehouse.open({ path: resolve(localDir, 'warehouse.duckdb') });
  const modelsDir = resolve(localDir, 'models');
  await ensureDemoWorld({
    warehouse,
    modelsDir,
    date: gameDate,
    today,
    ...(pastDays === undefined ? {} : { pastDays }),
    ...(games === undefined ? {} : { games }),
    log: (line) => say(`  ${line}`),
  });

  const apiKey = randomBytes(24).toString('hex');
  const stack = await startLocalStack({ duckdb: warehouse, modelsDir, apiKey, logger });
  say(
    `coordinator ${stack.coordinatorUrl} · worker ${stack.workerUrl} · models: ${stack.models.loaded.map((m) => m.systemId + (m.champion ? ' (champion)' : '')).join(', ')}`,
  );
  for (const r of stack.models.refused) say(`  ! model ${r.systemId} refused: ${r.reason}`);

  // Stop cleanly at any time: drain within Cloud Run's 10 s, say what stays pending, and exit.
  const stop = stopper(stack, warehouse, logger, say);
  process.off('SIGINT', earlyHandlers.SIGINT);
  process.off('SIGTERM', earlyHandlers.SIGTERM);
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      signalled = true;
      void stop(signal);
    });
  }

  const client = new CoordinatorClient(stack.coordinatorUrl, { apiKey, idToken: undefined });
  const out = new Output({ stdout: process.stdout, stderr: process.stderr, env: {}, isTTY: Boolean(process.stdout.isTTY) }, false);
  const ctx = { client, out, global: { url: stack.coordinatorUrl, json: false, intervalMs: 200, timeoutMs: null } };
  let exitCode = 0;
  try {
    // A batch the previous run left open (stopped or killed mid-batch) resumes on its own: follow it rather than start another.
    const latest = await getBatchStatus(client, { game_date: gameDate });
    const open = latest.ok && !stateEnded(latest.status.status) ? latest.status : null;
    if (open)
      say(
        `resuming batch ${open.batch_id} left open by the previous run (${open.status}, ${open.progress.completed}/${open.progress.expected} players)`,
      );
    const answer = open
      ? ({
          kind: 'started',
          batchId: open.batch_id,
          published: open.progress.expected,
          candidates: open.summary?.candidates ?? null,
          mode: open.prediction_run_mode,
          body: {},
        } as const)
      : await requestStart(ctx, { date: gameDate, mode: undefined, force: false, skipCompletenessCheck: false, datasetPrefix: undefined });
    if (answer.kind === 'no_games') say(`No games scheduled on ${gameDate}: nothing to predict.`);
    else if (answer.kind === 'no_players') {
      say(`No candidate players for ${gameDate} (is the demo world seeded for that date?)`);
      exitCode = 1;
    } else {
      if (!open) say(`batch ${answer.batchId}: ${answer.published} of ${answer.candidates ?? '?'} candidates published`);
      const result = await followBatch(client, answer.batchId, out, { intervalMs: 200, timeoutMs: null });
      const verdict = verdictOf(result);
      say(await renderReport(result.status, warehouse));
      const closing = result.status.closing;
      say(
        `\nphase-5 message: status ${closing?.phase5_status ?? 'n/a'}, ${result.status.progress.completed} players, ${result.status.progress.total_predictions} predictions`,
      );
      if (answer.published === 0 && !open)
        say('Nothing was published: every candidate already has a prediction for the date (see "Gate reasons"), or none passed the gate.');
      for (const p of verdict.problems) say(`  ! ${p}`);
      exitCode = verdict.exitCode;
    }
  } catch (err) {
    // Stopping on a signal: the follower lost its coordinator; the stop in progress says what happened and ends the process.
    if (signalled) return new Promise<number>(() => undefined);
    if (!(err instanceof CliError)) throw err;
    out.fail(err);
    exitCode = 1;
  }

  if (values.serve) {
    say(`\nServices are up (Ctrl-C to stop). API key: ${apiKey}`);
    say(
      `  curl -s -X POST ${stack.coordinatorUrl}/start -H 'x-api-key: ${apiKey}' -H 'content-type: application/json' -d '{"game_date":"${gameDate}","force":true,"prediction_run_mode":"LINE_UPDATE"}'`,
    );
    say(`  curl -s '${stack.coordinatorUrl}/status' -H 'x-api-key: ${apiKey}'`);
    say(`  curl -s '${stack.coordinatorUrl}/status?batch_id=BATCH_ID&players=true' -H 'x-api-key: ${apiKey}'`);
    say(`  curl -s ${stack.workerUrl}/models`);
    say(`  COORDINATOR_URL=${stack.coordinatorUrl} COORDINATOR_API_KEY=${apiKey} npm run predict -- status`);
    await new Promise<never>(() => undefined); // until a signal stops the process
  }
  await stop(null);
  return exitCode;
}

function stopper(
  stack: LocalStack,
  warehouse: DuckDbWarehouse,
  logger: pino.Logger,
  say: (line: string) => void,
): (signal: string | null) => Promise<void> {
  let stopping: Promise<void> | null = null;
  return (signal) => {
    stopping ??= (async () => {
      if (signal) say(`\n${signal}: stopping — taking no new work, letting deliveries in flight finish (at most a few seconds)…`);
      const started = Date.now();
      const backstop = setTimeout(() => {
        say('Stop took too long; exiting. Undelivered messages stay in .local/warehouse.duckdb and are delivered at the next start.');
        process.exit(1);
      }, 9_500);
      backstop.unref();
      const pending = Object.values(stack.bus.stats()).reduce((n, s) => n + s.queued + s.waitingRetry + s.inFlight, 0);
      await stack.close();
      await warehouse.close();
      logger.flush();
      clearTimeout(backstop);
      if (signal) {
        say(
          `Stopped in ${((Date.now() - started) / 1000).toFixed(1)} s.${pending > 0 ? ` ${pending} message(s) were still on their way: they are kept in .local/warehouse.duckdb and delivered at the next start, which also finishes any batch left open.` : ''}`,
        );
        process.exit(0);
      }
    })();
    return stopping;
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`npm start failed: ${err instanceof Error ? (err.stack ?? err.message) : errorMessage(err)}\n`);
    process.exit(1);
  },
);
