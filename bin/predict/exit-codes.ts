/** The operator CLI's exit codes (documented in docs/operations.md, "Operator CLI: daily run and backfills"). */
export const EXIT = {
  /** The batch ended `complete` (or the date has no games); status, reset and check-stalled answered. */
  ok: 0,
  /** A batch ended `partial` or `failed`, did not end in time, or the batch/date asked about does not exist. */
  batchFailed: 1,
  /** Bad arguments, or the coordinator rejected the request as invalid (400). */
  usage: 2,
  /** The coordinator could not be reached, refused the credentials (401/403) or failed (5xx). */
  service: 3,
  /** The date is busy: another batch is running for it (409, or a backfill date refused). */
  conflict: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
