/**
 * A small seeded PRNG for the demo world: mulberry32 with uniform, normal, pick and shuffle helpers. Every stream is derived
 * from a seed and a list of labels (a date, a player, a purpose), so any part of the world can be regenerated on its own and
 * the same (seed, date) always gives the same rows.
 */

/** 32-bit FNV-1a over the labels, mixed with the seed: a stable stream id for (seed, ...labels). */
export function streamSeed(seed: number, ...labels: ReadonlyArray<string | number>): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (const label of labels) {
    const s = `${String(label)}\u0000`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  // Final avalanche so that similar labels give unrelated streams.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A new generator for (seed, ...labels). */
  static of(seed: number, ...labels: ReadonlyArray<string | number>): Rng {
    return new Rng(streamSeed(seed, ...labels));
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  uniform(min = 0, max = 1): number {
    return min + (max - min) * this.next();
  }

  /** Integer uniform in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Normal(mean, sd) by Box–Muller (the second value of each pair is kept for the next call). */
  normal(mean = 0, sd = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + sd * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick: empty array');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /** k distinct elements, in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    return this.shuffle(items).slice(0, Math.max(0, Math.min(k, items.length)));
  }
}

const dayNumbers = new Map<string, number>();

/** Days since the epoch of a YYYY-MM-DD date (memoised: the world asks for the same few hundred dates millions of times). */
function dayNumber(date: string): number {
  let n = dayNumbers.get(date);
  if (n === undefined) {
    n = Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
    dayNumbers.set(date, n);
  }
  return n;
}

/** Days between two YYYY-MM-DD dates (b − a). */
export function daysBetween(a: string, b: string): number {
  return dayNumber(b) - dayNumber(a);
}

/** YYYY-MM-DD plus n days. */
export function addDays(date: string, n: number): string {
  const t = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(t)) throw new Error(`invalid date '${date}'`);
  return new Date(t + n * 86_400_000).toISOString().slice(0, 10);
}

const easternParts = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});
const easternInstants = new Map<string, number>();

/** The UTC instant of a wall-clock time in America/New_York on `date` (DST handled through Intl; memoised). */
export function easternToUtc(date: string, hour: number, minute = 0): Date {
  const key = `${date} ${hour}:${minute}`;
  let ms = easternInstants.get(key);
  if (ms === undefined) {
    const guess = new Date(`${date}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00Z`);
    const parts = easternParts.formatToParts(guess);
    const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? '0');
    const asEastern = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
    const offset = asEastern - guess.getTime(); // negative: ET is behind UTC
    ms = guess.getTime() - offset;
    easternInstants.set(key, ms);
  }
  return new Date(ms);
}
