/**
 * `npm start`: the daily job on the embedded default. Seeds the demo world if needed (a season: the last 165 dates, today
 * and tomorrow; once, then only extended as days pass), starts both services on loopback in this process with the local bus,
 * POSTs /start for today, follows /status, waits for the phase-5 message and prints the report. `--serve` leaves the
 * services up afterwards and prints curl commands; `--date YYYY-MM-DD` runs another day of the window, without reseeding.
 */
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLogger } from '../shared/logging/logger.js';
import { etDate } from '../shared/dates/game-date.js';
import { DuckDbWarehouse } from '../shared/adapters/duckdb/duckdb-warehouse.js';
import { ensureDemoWorld } from './demo/seed-world.js';
import { startLocalStack } from './local-stack.js';
import { renderReport } from './report.js';
import { ProgressPrinter } from './progress.js';

type Json = Record<string, unknown>;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'boolean', default: false },
      date: { type: 'string' },
      games: { type: 'string' },
    },
  });
  const localDir = resolve('.local');
  mkdirSync(localDir, { recursive: true });
  const logPath = resolve(localDir, 'local-stack.log');
  const logger = createLogger({ service: 'local-stack', level: 'info', destination: pino.destination({ dest: logPath, sync: false, mkdir: true }) });
  const today = etDate(new Date());
  const gameDate = values.date ?? today;
  const say = (line: string) => process.stdout.write(`${line}\n`);

  say(`NBA points predictions — local stack (warehouse .local/warehouse.duckdb, logs ${logPath})`);
  const warehouse = await DuckDbWarehouse.open({ path: resolve(localDir, 'warehouse.duckdb') });
  const modelsDir = resolve(localDir, 'models');
  await ensureDemoWorld({
    warehouse,
    modelsDir,
    date: gameDate,
    today,
    ...(values.games ? { games: Number(values.games) } : {}),
    log: (line) => say(`  ${line}`),
  });

  const apiKey = randomBytes(24).toString('hex');
  const stack = await startLocalStack({ warehouse, modelsDir, apiKey, logger });
  say(`coordinator ${stack.coordinatorUrl} · worker ${stack.workerUrl} · models: ${stack.models.loaded.map((m) => m.systemId + (m.champion ? ' (champion)' : '')).join(', ')}`);
  for (const r of stack.models.refused) say(`  ! model ${r.systemId} refused: ${r.reason}`);

  const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
  const phase5 = new Promise<Json>((resolvePhase5) => {
    const off = stack.bus.onPublish(stack.topics.phase5, (m) => {
      off();
      resolvePhase5(m.data as Json);
    });
  });

  let exitCode = 0;
  const startRes = await fetch(`${stack.coordinatorUrl}/start`, { method: 'POST', headers, body: JSON.stringify({ game_date: gameDate }) });
  const started = (await startRes.json()) as Json;
  if (startRes.status !== 202) {
    say(`/start answered ${startRes.status}: ${JSON.stringify(started, null, 2)}`);
    exitCode = startRes.status === 200 ? 0 : 1;
  } else {
    const batchId = String(started.batch_id);
    say(`batch ${batchId}: ${String(started.published)} of ${String(obj(started.summary).candidates)} candidates published`);
    const printer = new ProgressPrinter(process.stdout);
    let status: Json = {};
    let finished = false;
    void phase5.then(() => {
      finished = true;
    });
    for (;;) {
      const res = await fetch(`${stack.coordinatorUrl}/status?batch_id=${batchId}`, { headers });
      status = (await res.json()) as Json;
      const p = obj(status.progress);
      printer.update({ completed: Number(p.completed), expected: Number(p.expected), state: String(status.status), rate: p.completions_per_second as number | null, eta: p.eta_seconds as number | null });
      if (finished || Number(p.expected) === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    printer.done();
    const message = await phase5;
    const final = (await (await fetch(`${stack.coordinatorUrl}/status?batch_id=${batchId}`, { headers })).json()) as Json;
    say(await renderReport(final, warehouse));
    say(`\nphase-5 message: status ${String(message.status)}, ${String(message.record_count)} players, ${String(obj(message.metadata).total_predictions)} predictions`);
    const published = Number(started.published);
    if (published === 0) say('Nothing was published: every candidate already has a prediction for today (see "Gate reasons"), or none passed the gate.');
    exitCode = message.status === 'success' || message.status === 'no_data' ? 0 : 1;
  }

  if (values.serve) {
    say(`\nServices are up (Ctrl-C to stop). API key: ${apiKey}`);
    say(`  curl -s -X POST ${stack.coordinatorUrl}/start -H 'x-api-key: ${apiKey}' -H 'content-type: application/json' -d '{"game_date":"${gameDate}","force":true,"prediction_run_mode":"LINE_UPDATE"}'`);
    say(`  curl -s '${stack.coordinatorUrl}/status' -H 'x-api-key: ${apiKey}'`);
    say(`  curl -s '${stack.coordinatorUrl}/status?batch_id=BATCH_ID&players=true' -H 'x-api-key: ${apiKey}'`);
    say(`  curl -s ${stack.workerUrl}/models`);
    await new Promise<void>((resolveStop) => {
      const stop = () => resolveStop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  }
  await stack.close();
  await warehouse.close();
  logger.flush();
  return exitCode;
}

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' ? (v as Json) : {};
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`npm start failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
