/**
 * Sends insertAll requests (legacy streaming) and turns their failures into clear errors.
 *
 * One request per chunk, `skipInvalidRows: false` (a request with an invalid row writes nothing: the other rows come back
 * `stopped`), the client's own partial retries off. Rows that failed only transiently (backendError, internalError, timeout,
 * or `stopped` beside them) are sent again with the same insertIds, so BigQuery drops any copy that did land; a request that
 * failed whole with a retryable error is sent again whole. Anything else is thrown: per-row rejections as INSERT_REJECTED
 * naming each row (its index in the request), insertId, reason and message, and how many rows were written.
 */
import type { Table } from '@google-cloud/bigquery';
import { WarehouseError } from '../../ports/warehouse.js';
import { apiFailureOf, describeFailure, isRetryable, type ApiFailure } from './bigquery-errors.js';
import type { InsertAllRow } from './insert-all-rows.js';

const RETRYABLE_ROW_REASONS = new Set(['backendError', 'internalError', 'stopped', 'timeout']);
const MAX_LISTED_ROW_ERRORS = 10;

export interface InsertAllTarget {
  /** The operation's name, for errors. */
  name: string;
  table: Table;
  /** `project.dataset.table`, for errors. */
  fullName: string;
  /** insertId → index of the row in the caller's request. */
  rowIndex: ReadonlyMap<string, number>;
  /** Rows in the whole request (all chunks). */
  total: number;
  maxAttempts: number;
  backoff: (attempt: number, failure: ApiFailure) => Promise<void>;
}

interface RowFailure {
  insertId: string;
  reasons: string[];
  messages: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Writes one chunk; returns the rows written so far (`writtenBefore` plus this chunk's). */
export async function insertAllChunk(target: InsertAllTarget, chunk: readonly InsertAllRow[], writtenBefore: number): Promise<number> {
  let pending = [...chunk];
  let written = writtenBefore;
  for (let attempt = 1; ; attempt++) {
    try {
      await target.table.insert(pending, { raw: true, partialRetries: 0, skipInvalidRows: false, ignoreUnknownValues: false });
      return written + pending.length;
    } catch (err) {
      const rowErrors = partialFailures(err);
      if (rowErrors) {
        const failedIds = new Set(rowErrors.map((e) => e.insertId));
        const permanent = rowErrors.filter((e) => e.reasons.length === 0 || e.reasons.some((r) => !RETRYABLE_ROW_REASONS.has(r)));
        const stillPending = pending.filter((r) => failedIds.has(r.insertId));
        written += pending.length - stillPending.length;
        const reasons = [...new Set(rowErrors.flatMap((e) => e.reasons))];
        if (permanent.length === 0 && attempt < target.maxAttempts) {
          pending = stillPending;
          await target.backoff(attempt, {
            httpStatus: undefined,
            networkCode: undefined,
            reasons,
            message: `${rowErrors.length} rows failed transiently`,
          });
          continue;
        }
        const rejectedRows = permanent
          .filter((f) => !onlyStopped(f))
          .map((f) => target.rowIndex.get(f.insertId))
          .filter((i): i is number => i !== undefined);
        // Rejected rows never succeed as they are; rows only `stopped` beside them, or failing transiently, would.
        throw new WarehouseError(target.name, rejection(target, rowErrors, permanent, written), 'INSERT_REJECTED', {
          retryable: permanent.length === 0,
          attempts: attempt,
          reasons,
          rejectedRows,
          cause: err,
        });
      }
      const failure = apiFailureOf(err);
      if (!isRetryable(failure) || attempt >= target.maxAttempts) {
        throw new WarehouseError(
          target.name,
          `insert into ${target.fullName}: ${describeFailure(failure)} (${written} of ${target.total} rows written before)`,
          failure.reasons.includes('notFound') ? 'NOT_FOUND' : 'QUERY_FAILED',
          {
            retryable: isRetryable(failure),
            attempts: attempt,
            reasons: failure.reasons,
            cause: err,
          },
        );
      }
      await target.backoff(attempt, failure);
    }
  }
}

/** The per-row errors of a PartialFailureError (insertAll's insertErrors), or null for any other error. */
function partialFailures(err: unknown): RowFailure[] | null {
  if (!(err instanceof Error) || err.name !== 'PartialFailureError') return null;
  const list = (err as Error & { errors?: unknown }).errors;
  if (!Array.isArray(list)) return null;
  return list.map((entry: unknown) => {
    const e = isRecord(entry) ? entry : {};
    const row = isRecord(e.row) ? e.row : {};
    const inner = Array.isArray(e.errors) ? (e.errors as unknown[]).filter(isRecord) : [];
    return {
      insertId: typeof row.insertId === 'string' ? row.insertId : '?',
      reasons: inner.map((x) => (typeof x.reason === 'string' ? x.reason : '')).filter((r) => r !== ''),
      messages: inner.map((x) => (typeof x.message === 'string' ? x.message : '')).filter((m) => m !== ''),
    };
  });
}

const onlyStopped = (f: RowFailure): boolean => f.reasons.length === 1 && f.reasons[0] === 'stopped';

/** "insert into p.d.t: 1 of 3 rows rejected — row 1 (insertId p2): invalid: …; 2 rows stopped (…); 0 of 3 rows written". */
function rejection(target: InsertAllTarget, all: readonly RowFailure[], permanent: readonly RowFailure[], written: number): string {
  const rejected = permanent.filter((f) => !onlyStopped(f));
  const listed = rejected.length > 0 ? rejected : all;
  const shown = listed.slice(0, MAX_LISTED_ROW_ERRORS).map((f) => {
    const what =
      f.reasons.map((r, i) => `${r}${f.messages[i] ? `: ${f.messages[i]}` : ''}`).join('; ') || f.messages.join('; ') || 'no reason given';
    return `row ${target.rowIndex.get(f.insertId) ?? '?'} (insertId ${f.insertId}): ${what}`;
  });
  const more = listed.length - shown.length;
  const stopped = all.filter(onlyStopped).length;
  return [
    `insert into ${target.fullName}: ${listed.length} of ${target.total} rows rejected — ${shown.join(' | ')}${more > 0 ? ` | … ${more} more` : ''}`,
    stopped > 0 ? `; ${stopped} rows stopped (not written because of the rejected rows)` : '',
    `; ${written} of ${target.total} rows written`,
  ].join('');
}
