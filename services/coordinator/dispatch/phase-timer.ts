/** Milliseconds per named phase of an operation. */
export class PhaseTimer {
  readonly phases: Record<string, number> = {};
  private readonly started = performance.now();

  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.phases[phase] = Math.round((this.phases[phase] ?? 0) + performance.now() - t0);
    }
  }

  totalMs(): number {
    return Math.round(performance.now() - this.started);
  }
}
