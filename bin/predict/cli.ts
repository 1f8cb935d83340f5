/** The operator CLI as a function: argv and I/O in, exit code out (the entry bin/predict.ts wires it to the process). */
import { parseCli } from './args.js';
import { runBackfill } from './backfill-command.js';
import { runCheckStalled } from './check-stalled-command.js';
import { CoordinatorClient } from './client.js';
import type { CommandContext } from './context.js';
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import { Output, type CliIo } from './output.js';
import { runReset } from './reset-command.js';
import { runRedrive } from './redrive-command.js';
import { runCheckLines, runLineUpdate, runRegenerate, runSignal } from './reprediction-commands.js';
import { runStart } from './start-command.js';
import { runStatus } from './status-command.js';
import { USAGE } from './usage.js';
import { configuredClock } from '../../shared/ports/clock.js';

export type { CliIo } from './output.js';

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const wantsJson = argv.includes('--json');
  let out = new Output(io, wantsJson);
  try {
    // CLOCK_START: the services' test-only setting, so a test's CLI agrees with its services on the day (docs/testing.md).
    const { global, command } = parseCli(argv, io.env, io.now?.() ?? configuredClock(nonEmpty(io.env.CLOCK_START)).now());
    out = new Output(io, global.json);
    if (command.kind === 'help') {
      io.stdout.write(USAGE);
      return EXIT.ok;
    }
    const client = new CoordinatorClient(global.url, {
      apiKey: nonEmpty(io.env.COORDINATOR_API_KEY),
      idToken: nonEmpty(io.env.COORDINATOR_ID_TOKEN),
    });
    const ctx: CommandContext = { client, out, global };
    switch (command.kind) {
      case 'start':
        return await runStart(ctx, command);
      case 'backfill':
        return await runBackfill(ctx, command);
      case 'status':
        return await runStatus(ctx, command);
      case 'reset':
        return await runReset(ctx, command);
      case 'check-stalled':
        return await runCheckStalled(ctx, command);
      case 'redrive':
        return await runRedrive(ctx, command);
      case 'check-lines':
        return await runCheckLines(ctx, command);
      case 'line-update':
        return await runLineUpdate(ctx, command);
      case 'regenerate':
        return await runRegenerate(ctx, command);
      case 'signal':
        return await runSignal(ctx, command);
    }
  } catch (err) {
    if (err instanceof CliError) {
      out.fail(err);
      return err.exitCode;
    }
    out.fail(new CliError(EXIT.service, `unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
    return EXIT.service;
  }
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());
