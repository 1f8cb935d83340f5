/**
 * A player's line provenance and the line values sent to the worker. A line that came from a sportsbook row is real, even
 * when it is exactly 20.0 (the original's placeholder value, which it then nudged to 19.5/20.5); a player without a line is
 * NO_PROP_LINE with `[null]` and never gets an invented line.
 */
import type { FoundLine } from './line-queries.js';

export interface ShapedLine {
  line_source: 'ACTUAL_PROP' | 'NO_PROP_LINE';
  line_values: (number | null)[];
  base_line: number | null;
  line_source_api: 'ODDS_API' | 'BETTINGPROS' | null;
  sportsbook: string | null;
  was_line_fallback: boolean;
  line_minutes_before_game: number | null;
}

export const MULTI_LINE = { range: 2, step: 1 } as const;

const roundTenth = (v: number): number => Math.round(v * 10) / 10;

export function shapeLine(found: FoundLine | undefined, useMultipleLines: boolean): ShapedLine {
  if (!found) {
    return {
      line_source: 'NO_PROP_LINE',
      line_values: [null],
      base_line: null,
      line_source_api: null,
      sportsbook: null,
      was_line_fallback: false,
      line_minutes_before_game: null,
    };
  }
  const base = roundTenth(found.line_value);
  const values: number[] = [];
  if (useMultipleLines) {
    for (let offset = -MULTI_LINE.range; offset <= MULTI_LINE.range; offset += MULTI_LINE.step) {
      const v = roundTenth(base + offset);
      if (v > 0) values.push(v);
    }
  } else values.push(base);
  return {
    line_source: 'ACTUAL_PROP',
    line_values: values,
    base_line: base,
    line_source_api: found.line_source_api,
    sportsbook: found.sportsbook,
    was_line_fallback: found.was_line_fallback,
    line_minutes_before_game: found.line_minutes_before_game,
  };
}

/**
 * The reference line written on every row as `estimated_line_value` (original-coordinator §3.8): the player's
 * points_avg_last_5 rounded to the nearest 0.5, halves to even as Python's round() does; no average (NULL or 0) → null.
 * It is never used as the bet line (estimated lines stay disabled).
 */
export function referenceLine(pointsAvgLast5: number | null): number | null {
  if (pointsAvgLast5 === null || pointsAvgLast5 === 0 || !Number.isFinite(pointsAvgLast5)) return null;
  return roundHalfEven(pointsAvgLast5 * 2) / 2;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
