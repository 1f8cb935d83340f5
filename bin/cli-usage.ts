/**
 * Usage errors of the single-command CLIs (`npm start`, `npm run seed`, `npm run setup-gcp`): the message and the usage on
 * stderr, exit code 2 — never a stack trace for a mistyped option.
 */
import { errorMessage } from '../shared/errors/error-message.js';

export interface Usage {
  readonly text: string;
  /** Writes `<name>: <message>` and the usage to stderr and exits 2. */
  fail: (message: string) => never;
  /** Runs an argument parser (node:util parseArgs); what it throws (an unknown or malformed option) is a usage failure. */
  parsed: <T>(parse: () => T) => T;
  /** An integer option within [min, max], or undefined when absent. */
  int: (option: string, value: string | undefined, min: number, max: number) => number | undefined;
}

export function cliUsage(name: string, text: string): Usage {
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message}\n${text}\n`);
    process.exit(2);
  };
  return {
    text,
    fail,
    parsed(parse) {
      try {
        return parse();
      } catch (err) {
        return fail(errorMessage(err));
      }
    },
    int(option, value, min, max) {
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min || n > max) fail(`--${option} must be an integer ${min}–${max}, got '${value}'`);
      return n;
    },
  };
}
