/** Prediction run modes, their legacy aliases and the quality-gate threshold of each (original-coordinator §3.14). */

export const RUN_MODES = ['FIRST', 'RETRY', 'FINAL_RETRY', 'LAST_CALL', 'BACKFILL', 'LINE_CHECK', 'LINE_UPDATE'] as const;
export type RunMode = (typeof RUN_MODES)[number];

export const LEGACY_RUN_MODES: Readonly<Record<string, RunMode>> = {
  EARLY: 'FIRST',
  PRE_GAME: 'FIRST',
  OVERNIGHT: 'RETRY',
  SAME_DAY: 'RETRY',
  MORNING: 'RETRY',
};

export const GATE_THRESHOLDS: Readonly<Record<RunMode, number>> = {
  FIRST: 85,
  RETRY: 85,
  FINAL_RETRY: 80,
  LAST_CALL: 70,
  BACKFILL: 70,
  LINE_CHECK: 85,
  LINE_UPDATE: 85,
};

/** Case-insensitive; legacy names map as the original maps them. Unknown → undefined (the caller answers 400). */
export function parseRunMode(input: string): RunMode | undefined {
  const upper = input.trim().toUpperCase();
  if ((RUN_MODES as readonly string[]).includes(upper)) return upper as RunMode;
  return LEGACY_RUN_MODES[upper];
}

/**
 * The mode a run actually uses: `require_real_lines` forces FIRST (the original forced EARLY, which maps to FIRST);
 * BACKFILL for a date after today becomes RETRY.
 */
export function effectiveRunMode(requested: RunMode, opts: { requireRealLines: boolean; gameDate: string; today: string }): RunMode {
  if (opts.requireRealLines) return 'FIRST';
  if (requested === 'BACKFILL' && opts.gameDate > opts.today) return 'RETRY';
  return requested;
}
