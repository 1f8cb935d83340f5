export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that read `start` when it was made and runs at real speed from there (CLOCK_START; tests' fixed day). */
export function clockStartingAt(start: Date, realNow: () => number = Date.now): Clock {
  const offset = start.getTime() - realNow();
  return { now: () => new Date(realNow() + offset) };
}

/** The clock a service runs on: the system's, or one starting at CLOCK_START when a test set it. */
export const configuredClock = (clockStart: string | undefined): Clock =>
  clockStart ? clockStartingAt(new Date(clockStart)) : systemClock;

/** A clock tests and stall checks can move by hand. */
export class ManualClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  set(date: Date): void {
    this.current = new Date(date.getTime());
  }
}
