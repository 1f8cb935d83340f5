/**
 * Publisher flow control with the "block" behaviour: a publish waits (FIFO) while the messages or bytes already handed to
 * the client and not yet settled would exceed the limits. The client library's own flow control only works through
 * `topic.flowControlled()`, whose `all()` rejects as a whole; this keeps one outcome per message.
 * A message larger than `maxOutstandingBytes` alone still goes when nothing else is outstanding (no deadlock).
 */
export interface FlowLimits {
  maxOutstandingMessages?: number;
  maxOutstandingBytes?: number;
}

export function validateFlowLimits(limits: FlowLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
      throw new Error(`pubsub flow control: ${name} must be a positive integer, got ${String(value)}`);
    }
  }
}

interface Waiter {
  bytes: number;
  resolve(): void;
}

export class FlowGate {
  private messages = 0;
  private bytes = 0;
  private readonly waiters: Waiter[] = [];

  constructor(private readonly limits: FlowLimits) {
    validateFlowLimits(limits);
  }

  /** Resolves when the message may be handed to the client; call `release(bytes)` once it has settled. */
  acquire(bytes: number): Promise<void> {
    if (this.waiters.length === 0 && this.fits(bytes)) {
      this.take(bytes);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  }

  release(bytes: number): void {
    this.messages -= 1;
    this.bytes -= bytes;
    for (let next = this.waiters[0]; next !== undefined && this.fits(next.bytes); next = this.waiters[0]) {
      this.waiters.shift();
      this.take(next.bytes);
      next.resolve();
    }
  }

  get outstanding(): { messages: number; bytes: number; waiting: number } {
    return { messages: this.messages, bytes: this.bytes, waiting: this.waiters.length };
  }

  private fits(bytes: number): boolean {
    if (this.messages === 0) return true;
    const { maxOutstandingMessages: maxMessages, maxOutstandingBytes: maxBytes } = this.limits;
    return (maxMessages === undefined || this.messages + 1 <= maxMessages) && (maxBytes === undefined || this.bytes + bytes <= maxBytes);
  }

  private take(bytes: number): void {
    this.messages += 1;
    this.bytes += bytes;
  }
}
