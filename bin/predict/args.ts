/** Command-line parsing (node:util parseArgs): one typed command, or a UsageError naming what is wrong. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolveGameDate } from '../../shared/dates/game-date.js';
import { LEGACY_RUN_MODES, RUN_MODES, parseRunMode } from '../../services/coordinator/dispatch/run-modes.js';
import { DEFAULT_URL } from './client.js';
import { UsageError } from './errors.js';
import { errorMessage } from '../../shared/errors/error-message.js';

export interface GlobalOptions {
  url: string;
  json: boolean;
  intervalMs: number;
  timeoutMs: number | null;
}

export interface StartCommand {
  kind: 'start';
  date: string;
  mode: string | undefined;
  force: boolean;
  requireRealLines: boolean;
  players: string[] | undefined;
  wait: boolean;
  skipCompletenessCheck: boolean;
  datasetPrefix: string | undefined;
}

export interface BackfillCommand {
  kind: 'backfill';
  from: string;
  to: string;
  mode: string;
  skipExisting: boolean;
  continueOnError: boolean;
  force: boolean;
  skipCompletenessCheck: boolean;
  datasetPrefix: string | undefined;
  /** Dates run at once; undefined: what the coordinator recommends (GET /capacity). */
  concurrency: number | undefined;
}

export interface RedriveCommand {
  kind: 'redrive';
  batchId: string;
  wait: boolean;
}

export interface StatusCommand {
  kind: 'status';
  batchId: string | undefined;
  date: string | undefined;
  wait: boolean;
  players: boolean;
}

export interface ResetCommand {
  kind: 'reset';
  batchId: string | undefined;
  date: string | undefined;
}

export interface CheckStalledCommand {
  kind: 'check-stalled';
  batchId: string | undefined;
  idleMinutes: number | undefined;
  minPct: number | undefined;
  maxAgeMinutes: number | undefined;
}

export interface CheckLinesCommand {
  kind: 'check-lines';
  date: string;
  threshold: number | undefined;
  dryRun: boolean;
  wait: boolean;
}

export interface LineUpdateCommand {
  kind: 'line-update';
  date: string;
  players: string[];
  dryRun: boolean;
  wait: boolean;
}

export interface RegenerateCommand {
  kind: 'regenerate';
  date: string;
  reason: string | undefined;
  metadata: Record<string, unknown> | undefined;
  skipCompletenessCheck: boolean;
  wait: boolean;
}

export interface SignalCommand {
  kind: 'signal';
  date: string;
  alert: boolean;
}

export type Command =
  | StartCommand
  | BackfillCommand
  | StatusCommand
  | ResetCommand
  | CheckStalledCommand
  | RedriveCommand
  | CheckLinesCommand
  | LineUpdateCommand
  | RegenerateCommand
  | SignalCommand
  | { kind: 'help' };

export interface ParsedArgs {
  global: GlobalOptions;
  command: Command;
}

type Options = NonNullable<ParseArgsConfig['options']>;

const GLOBAL_OPTIONS: Options = {
  url: { type: 'string' },
  json: { type: 'boolean', default: false },
  interval: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
};

const RUN_OPTIONS: Options = {
  mode: { type: 'string' },
  force: { type: 'boolean', default: false },
  'skip-completeness-check': { type: 'boolean', default: false },
  'dataset-prefix': { type: 'string' },
};

const COMMAND_OPTIONS: Record<Exclude<Command['kind'], 'help'>, Options> = {
  start: {
    ...RUN_OPTIONS,
    'require-real-lines': { type: 'boolean', default: false },
    players: { type: 'string' },
    wait: { type: 'boolean', default: true },
  },
  backfill: {
    ...RUN_OPTIONS,
    from: { type: 'string' },
    to: { type: 'string' },
    'skip-existing': { type: 'boolean', default: true },
    'continue-on-error': { type: 'boolean', default: false },
    concurrency: { type: 'string' },
  },
  redrive: { wait: { type: 'boolean', default: true } },
  status: { date: { type: 'string' }, wait: { type: 'boolean', default: false }, players: { type: 'boolean', default: false } },
  reset: { date: { type: 'string' } },
  'check-stalled': { 'idle-minutes': { type: 'string' }, 'min-pct': { type: 'string' }, 'max-age-minutes': { type: 'string' } },
  'check-lines': {
    threshold: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    wait: { type: 'boolean', default: true },
  },
  'line-update': { players: { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, wait: { type: 'boolean', default: true } },
  regenerate: {
    reason: { type: 'string' },
    metadata: { type: 'string' },
    'skip-completeness-check': { type: 'boolean', default: false },
    wait: { type: 'boolean', default: true },
  },
  signal: { alert: { type: 'boolean', default: false } },
};

const COMMAND_NAMES = 'start, backfill, status, reset, check-stalled, redrive, check-lines, line-update, regenerate, signal';

const isCommand = (name: string): name is keyof typeof COMMAND_OPTIONS => Object.hasOwn(COMMAND_OPTIONS, name);

// eslint-disable-next-line complexity -- one switch over the CLI's commands, each a few option reads; a table of parsers would hide the usage rules
export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, now: Date): ParsedArgs {
  const name = argv[0];
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    if (name === undefined) throw new UsageError('no command given', [`predict --help lists the commands: ${COMMAND_NAMES}`]);
    return { global: globals({}, env), command: { kind: 'help' } };
  }
  if (!isCommand(name)) throw new UsageError(`unknown command '${name}'`, [`the commands are: ${COMMAND_NAMES} (predict --help)`]);

  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      options: { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[name] },
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${name}: ${errorMessage(err)}`, [`predict --help shows the options of '${name}'`]);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const positionals = parsed.positionals;
  const global = globals(v, env);
  if (v.help === true) return { global, command: { kind: 'help' } };
  const at = (i: number) => positionals[i];
  const maxPositionals = (n: number) => {
    if (positionals.length > n)
      throw new UsageError(`${name}: unexpected argument '${positionals[n] ?? ''}'`, [`predict --help shows the usage of '${name}'`]);
  };
  const s = (k: string): string | undefined => (typeof v[k] === 'string' ? v[k] : undefined);
  const b = (k: string): boolean => v[k] === true;

  switch (name) {
    case 'start': {
      maxPositionals(1);
      const mode = runMode(s('mode'));
      return {
        global,
        command: {
          kind: 'start',
          date: gameDate(at(0) ?? 'TODAY', 'the date', now, mode === 'BACKFILL'),
          mode,
          force: b('force'),
          requireRealLines: b('require-real-lines'),
          players: playerList(s('players')),
          wait: b('wait'),
          skipCompletenessCheck: b('skip-completeness-check'),
          datasetPrefix: s('dataset-prefix'),
        },
      };
    }
    case 'backfill': {
      maxPositionals(0);
      const fromArg = s('from');
      const toArg = s('to');
      if (fromArg === undefined || toArg === undefined)
        throw new UsageError('backfill needs --from and --to (YYYY-MM-DD, TODAY or TOMORROW)', [
          'e.g. predict backfill --from 2026-01-10 --to 2026-01-12',
        ]);
      const mode = runMode(s('mode')) ?? 'BACKFILL';
      // The coordinator lets a BACKFILL batch go back a year (shared/dates/game-date.ts): the CLI checks the same window.
      const from = gameDate(fromArg, '--from', now, mode === 'BACKFILL');
      const to = gameDate(toArg, '--to', now, mode === 'BACKFILL');
      if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
      return {
        global,
        command: {
          kind: 'backfill',
          from,
          to,
          mode,
          skipExisting: b('skip-existing'),
          continueOnError: b('continue-on-error'),
          force: b('force'),
          skipCompletenessCheck: b('skip-completeness-check'),
          datasetPrefix: s('dataset-prefix'),
          concurrency: wholeNumber(s('concurrency'), '--concurrency', 1, 64),
        },
      };
    }
    case 'redrive': {
      maxPositionals(1);
      const batchId = at(0);
      if (batchId === undefined)
        throw new UsageError('redrive needs the batch id whose failed players to re-predict', ['e.g. predict redrive batch_2026-01-10_…']);
      return { global, command: { kind: 'redrive', batchId, wait: b('wait') } };
    }
    case 'status': {
      maxPositionals(1);
      const date = s('date');
      if (at(0) !== undefined && date !== undefined) throw new UsageError('status: give a batch id or --date, not both');
      if (b('wait') && at(0) === undefined && date === undefined) throw new UsageError('status --wait needs a batch id or --date');
      return {
        global,
        command: {
          kind: 'status',
          batchId: at(0),
          date: date === undefined ? undefined : gameDate(date, '--date', now),
          wait: b('wait'),
          players: b('players'),
        },
      };
    }
    case 'reset': {
      maxPositionals(1);
      const date = s('date');
      if ((at(0) === undefined) === (date === undefined))
        throw new UsageError('reset needs a batch id or --date (one of them)', [
          'e.g. predict reset batch_2026-01-10_… or predict reset --date 2026-01-10',
        ]);
      return { global, command: { kind: 'reset', batchId: at(0), date: date === undefined ? undefined : gameDate(date, '--date', now) } };
    }
    case 'check-stalled': {
      maxPositionals(1);
      return {
        global,
        command: {
          kind: 'check-stalled',
          batchId: at(0),
          idleMinutes: positiveNumber(s('idle-minutes'), '--idle-minutes'),
          minPct: percent(s('min-pct')),
          maxAgeMinutes: positiveNumber(s('max-age-minutes'), '--max-age-minutes'),
        },
      };
    }
    case 'check-lines': {
      maxPositionals(1);
      return {
        global,
        command: {
          kind: 'check-lines',
          date: gameDate(at(0) ?? 'TODAY', 'the date', now),
          threshold: positiveNumber(s('threshold'), '--threshold'),
          dryRun: b('dry-run'),
          wait: b('wait'),
        },
      };
    }
    case 'line-update': {
      maxPositionals(1);
      const date = at(0);
      const players = playerList(s('players'));
      if (date === undefined || players === undefined)
        throw new UsageError('line-update needs the date and --players', [
          'e.g. predict line-update TODAY --players lebronjames,stephencurry',
        ]);
      return {
        global,
        command: { kind: 'line-update', date: gameDate(date, 'the date', now), players, dryRun: b('dry-run'), wait: b('wait') },
      };
    }
    case 'regenerate': {
      maxPositionals(1);
      const date = at(0);
      if (date === undefined)
        throw new UsageError('regenerate needs the date to regenerate', ['e.g. predict regenerate 2026-03-10 --reason feature_upgrade']);
      return {
        global,
        command: {
          kind: 'regenerate',
          date: gameDate(date, 'the date', now),
          reason: s('reason'),
          metadata: jsonObject(s('metadata'), '--metadata'),
          skipCompletenessCheck: b('skip-completeness-check'),
          wait: b('wait'),
        },
      };
    }
    case 'signal': {
      maxPositionals(1);
      return { global, command: { kind: 'signal', date: gameDate(at(0) ?? 'TODAY', 'the date', now), alert: b('alert') } };
    }
  }
}

function jsonObject(input: string | undefined, what: string): Record<string, unknown> | undefined {
  if (input === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch (err) {
    throw new UsageError(`${what}: not JSON: ${errorMessage(err)}`, [`e.g. ${what} '{"ticket":"NBA-42"}'`]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`${what}: expected a JSON object, e.g. '{"ticket":"NBA-42"}'`);
  return value as Record<string, unknown>;
}

function globals(v: Record<string, string | boolean | undefined>, env: Readonly<Record<string, string | undefined>>): GlobalOptions {
  const url = (typeof v.url === 'string' ? v.url : undefined) ?? env.COORDINATOR_URL ?? DEFAULT_URL;
  if (!/^https?:\/\/[^/\s]+/.test(url))
    throw new UsageError(`the coordinator URL '${url}' is not an http(s) URL`, [
      'set --url or COORDINATOR_URL, e.g. https://prediction-coordinator-…run.app',
    ]);
  const interval = positiveNumber(typeof v.interval === 'string' ? v.interval : undefined, '--interval') ?? 2;
  const timeoutArg = typeof v.timeout === 'string' ? v.timeout : undefined;
  const timeout = timeoutArg === '0' ? 0 : (positiveNumber(timeoutArg, '--timeout') ?? 60);
  return {
    url,
    json: v.json === true,
    intervalMs: Math.round(interval * 1000),
    timeoutMs: timeout === 0 ? null : Math.round(timeout * 60_000),
  };
}

function gameDate(input: string, what: string, now: Date, backfill = false): string {
  const upper = input.toUpperCase();
  const resolved = resolveGameDate(upper === 'TODAY' || upper === 'TOMORROW' ? upper : input, now, { backfill });
  if (!resolved.ok) throw new UsageError(`${what}: ${resolved.error}`);
  return resolved.date;
}

function runMode(input: string | undefined): string | undefined {
  if (input === undefined) return undefined;
  const mode = parseRunMode(input);
  if (mode === undefined)
    throw new UsageError(`--mode: unknown mode '${input}'; expected one of ${[...RUN_MODES, ...Object.keys(LEGACY_RUN_MODES)].join(', ')}`);
  return mode;
}

function playerList(input: string | undefined): string[] | undefined {
  if (input === undefined) return undefined;
  const players = input
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (players.length === 0)
    throw new UsageError('--players: give at least one player_lookup, comma-separated (e.g. --players lebronjames,stephencurry)');
  return players;
}

function positiveNumber(input: string | undefined, what: string): number | undefined {
  if (input === undefined) return undefined;
  const n = Number(input);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what}: '${input}' is not a positive number`);
  return n;
}

function wholeNumber(input: string | undefined, what: string, min: number, max: number): number | undefined {
  if (input === undefined) return undefined;
  const n = Number(input);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${what}: '${input}' is not a whole number from ${min} to ${max}`);
  return n;
}

function percent(input: string | undefined): number | undefined {
  if (input === undefined) return undefined;
  const n = Number(input);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`--min-pct: '${input}' is not a percentage between 0 and 100`);
  return n;
}
