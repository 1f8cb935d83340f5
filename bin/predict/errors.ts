/** Errors the CLI reports: a message saying what is wrong, hints saying what to do next, and the exit code. */
import { EXIT, type ExitCode } from './exit-codes.js';

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly hints: readonly string[] = [],
    /** Machine-readable facts for `--json` (HTTP status, error code, the running batch …). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string, hints: readonly string[] = ['predict --help lists the commands and options']) {
    super(EXIT.usage, message, hints);
    this.name = 'UsageError';
  }
}
