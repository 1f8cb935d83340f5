/**
 * The line-provenance gate, per row: a line is used only with its provenance. A line that came from a sportsbook is real
 * even at exactly 20.0 (the original rejected every 20.0 as a placeholder, genuine or not). A failing row is dropped with its
 * reason; the request's other rows still write.
 */
import type { PlayerJob } from '../../../shared/contracts/messages.js';

export function provenanceProblem(req: PlayerJob, line: number | null): string | null {
  if (req.line_source === 'ACTUAL_PROP') {
    if (line === null) return 'actual_prop_without_line';
    if (req.line_source_api === null || req.sportsbook === null) return 'line_without_provenance';
    return null;
  }
  if (line !== null) return 'line_without_provenance';
  return null;
}
