/**
 * A script job's statements run as child jobs (jobs.list with parentJobId). Each child names the line its statement starts
 * on (statistics.scriptStatistics.stackFrames[].startLine, one-based), which maps it back to the transaction's statement —
 * jobs.list's order is not relied on. DML children carry statistics.query.numDmlAffectedRows (or dmlStats).
 */

export interface ChildJob {
  jobId: string;
  location: string | undefined;
  startLine: number | undefined;
  statementType: string | undefined;
  /** Rows inserted + updated + deleted; null when BigQuery gave no count. */
  affectedRows: number | null;
  /** status.errors of a child that succeeded: warnings. */
  warnings: string[];
}

const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const rec = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function count(v: unknown): number | null {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return null;
}

/** Reads one jobs.list entry (unknown JSON) into what the transaction needs. */
export function childJobOf(entry: unknown): ChildJob {
  const e = rec(entry);
  const ref = rec(e.jobReference);
  const jobId = str(ref.jobId);
  if (jobId === undefined) throw new Error(`child job entry without a jobReference.jobId: ${JSON.stringify(entry)}`);
  const stats = rec(e.statistics);
  const query = rec(stats.query);
  const frames = rec(stats.scriptStatistics).stackFrames;
  const frame = Array.isArray(frames) ? rec(frames[0]) : {};
  const line = count(frame.startLine);
  let affected = count(query.numDmlAffectedRows);
  if (affected === null && isRecord(query.dmlStats)) {
    const parts = ['insertedRowCount', 'updatedRowCount', 'deletedRowCount'].map((k) => count(rec(query.dmlStats)[k]) ?? 0);
    affected = parts.reduce((a, b) => a + b, 0);
  }
  const status = rec(e.status);
  const warnings = Array.isArray(status.errors)
    ? status.errors.flatMap((w: unknown) =>
        typeof rec(w).message === 'string' ? [`${str(rec(w).reason) ? `[${str(rec(w).reason)}] ` : ''}${String(rec(w).message)}`] : [],
      )
    : [];
  return {
    jobId,
    location: str(ref.location),
    startLine: line ?? undefined,
    statementType: str(query.statementType),
    affectedRows: affected,
    warnings,
  };
}

export const isDml = (child: ChildJob): boolean => child.statementType !== undefined && DML.has(child.statementType);

/**
 * The child job of each statement, in statement order. A statement with no child, or two children on one line, is an error
 * (the caller says the transaction committed: these are only its results).
 */
export function childrenByStatement(
  children: readonly ChildJob[],
  startLines: readonly number[],
  statementNames: readonly string[],
): ChildJob[] {
  return startLines.map((line, i) => {
    const matches = children.filter((c) => c.startLine === line);
    const name = statementNames[i] ?? `#${i + 1}`;
    if (matches.length === 0) {
      throw new Error(
        `no child job for statement ${name} (line ${line}) among ${children.length} child jobs (lines ${children.map((c) => c.startLine ?? '?').join(', ')})`,
      );
    }
    if (matches.length > 1) throw new Error(`${matches.length} child jobs claim statement ${name} (line ${line})`);
    const child = matches[0] as ChildJob;
    if (isDml(child) && child.affectedRows === null)
      throw new Error(`child job ${child.jobId} (${child.statementType}, statement ${name}) reports no affected-row count`);
    return child;
  });
}
