/**
 * Named crash points for the crash tests: a real process killed with SIGKILL at an exact step (during dispatch, with
 * completions half in, right after a batch turns consolidating, during the merge) and started again. Armed only through
 * the `CRASH_AT` setting (`name` or `name@N` for the Nth time the point is reached), which no deployment sets; unarmed, a
 * crash point is a no-op. Coordinator: `dispatch.planned`, `dispatch.published`, `completions.recorded`,
 * `completions.finished`, `consolidate.began`, `consolidate.merged`. Worker: `predict.staged` (a request's rows are staged,
 * its completion not yet published).
 */
const armed = new Map<string, number>();

export function armCrashPoints(spec: string | undefined): void {
  armed.clear();
  for (const part of (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const [name, nth] = part.split('@');
    armed.set(name as string, nth === undefined ? 1 : Math.max(1, Number(nth)));
  }
}

export function crashPoint(name: string): void {
  const left = armed.get(name);
  if (left === undefined) return;
  if (left > 1) {
    armed.set(name, left - 1);
    return;
  }
  process.stderr.write(`${JSON.stringify({ severity: 'CRITICAL', message: `crash point ${name}: SIGKILL` })}\n`);
  process.kill(process.pid, 'SIGKILL');
}
