/**
 * The operator CLI: `npm run predict -- <command>` or `node dist/bin/predict.js <command>`. Starts and follows batches,
 * runs backfills, shows status, resets and checks stalled batches on a coordinator given by URL. `--help` for usage;
 * docs/operations.md ("Operator CLI: daily run and backfills") for the flows and exit codes.
 */
import { runCli } from './predict/cli.js';

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`predict failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 3;
  },
);
