/** A progress line for a batch: a redrawn bar on a terminal, one plain line per change otherwise (log-friendly). */
export interface ProgressState {
  completed: number;
  expected: number;
  state: string;
  rate: number | null;
  eta: number | null;
}

/** Where the printer writes: a process stream, or any sink with `write` (the operator CLI's tests capture output). */
export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class ProgressPrinter {
  private last = '';

  constructor(
    private readonly stream: TextSink,
    private readonly tty = Boolean(stream.isTTY),
  ) {}

  update(p: ProgressState): void {
    const pct = p.expected === 0 ? 0 : Math.min(1, p.completed / p.expected);
    const rate = p.rate === null ? '' : ` · ${p.rate.toFixed(1)}/s`;
    const eta = p.eta === null ? '' : ` · ETA ${Math.ceil(p.eta)}s`;
    const text = `${p.state.padEnd(13)} ${p.completed}/${p.expected} (${Math.round(pct * 100)}%)${rate}${eta}`;
    if (this.tty) {
      const width = 30;
      const filled = Math.round(pct * width);
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      return;
    }
    const key = `${p.state} ${p.completed}/${p.expected}`;
    if (key !== this.last) this.stream.write(`${text}\n`);
    this.last = key;
  }

  done(): void {
    if (this.tty) this.stream.write('\n');
  }
}
