/**
 * Where the CLI writes. Human mode: text on stdout, errors on stderr, a redrawn progress bar on a terminal and one plain
 * line per change otherwise (no control characters at all off a terminal). `--json`: one JSON object per line on stdout.
 */
import { ProgressPrinter, type TextSink } from '../progress.js';
import type { CliError } from './errors.js';
import type { Json } from './json.js';

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal (the bar is redrawn in place only then). */
  isTTY: boolean;
  /** The clock used to resolve TODAY/TOMORROW (tests may pin it). */
  now?: () => Date;
}

export interface ProgressEvent {
  batch_id: string;
  game_date: string;
  state: string;
  completed: number;
  expected: number;
  percent: number | null;
  completions_per_second: number | null;
  eta_seconds: number | null;
}

export interface ProgressSink {
  update(p: ProgressEvent): void;
  done(): void;
}

// C0 controls except newline, DEL and C1 controls: a service message never moves the cursor or colours a log.
// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are stripped from output
const CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/g;

export class Output {
  constructor(
    private readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** A line of human output (ignored with --json). */
  say(text = ''): void {
    if (!this.json) this.io.stdout.write(`${text.replace(CONTROL, ' ')}\n`);
  }

  /** A machine event (ignored without --json). */
  event(kind: string, fields: Json): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify({ event: kind, ...fields })}\n`);
  }

  /** A note for the person at the terminal: stderr, in both modes. */
  note(text: string): void {
    this.io.stderr.write(`${text.replace(CONTROL, ' ')}\n`);
  }

  fail(err: CliError): void {
    if (this.json) {
      this.event('error', { exit_code: err.exitCode, message: err.message, hints: err.hints, ...err.details });
      return;
    }
    this.note(`error: ${err.message}`);
    for (const hint of err.hints) this.note(`  -> ${hint}`);
  }

  progress(): ProgressSink {
    if (this.json) {
      let last = '';
      return {
        update: (p) => {
          const key = `${p.state} ${p.completed}/${p.expected}`;
          if (key !== last) this.event('progress', { ...p });
          last = key;
        },
        done: () => undefined,
      };
    }
    const printer = new ProgressPrinter(this.io.stdout, this.io.isTTY);
    return {
      update: (p) =>
        printer.update({
          state: p.state,
          completed: p.completed,
          expected: p.expected,
          rate: p.completions_per_second,
          eta: p.eta_seconds,
        }),
      done: () => printer.done(),
    };
  }
}
