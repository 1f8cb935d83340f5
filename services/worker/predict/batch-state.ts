/**
 * Whether a request's batch still takes completions, learned cheaply: one read of the batch store per batch per few seconds
 * (a batch that no longer takes them — consolidating or ended — is remembered for good: it never takes them again). A
 * request for such a batch (reset, superseded, completed as partial, already consolidating) is acked without running
 * models or writing staging: its rows would be merged by nobody, or merged without being counted.
 */
import type { BatchStore } from '../../../shared/ports/batch-store.js';
import { takesCompletions, type BatchState } from '../../../shared/batch/batch-record.js';
import type { Clock } from '../../../shared/ports/clock.js';
import type { AppLogger } from '../../../shared/ports/logger.js';
import { errorMessage } from '../../../shared/errors/error-message.js';

export type BatchStateReader = Pick<BatchStore, 'getBatch'>;

const MAX_ENTRIES = 1_000;

export class BatchStateCache {
  private readonly entries = new Map<string, { state: BatchState | null; at: number }>();

  constructor(
    private readonly reader: BatchStateReader,
    private readonly clock: Clock,
    private readonly logger: AppLogger,
    /** How long a `running` (or `dispatching`) state is trusted: a request within this long after an end may still be predicted. */
    private readonly activeStateTtlMs: number,
  ) {}

  /**
   * The batch's state; null when the store does not know it (a hand-made message) or cannot be read now — the request then
   * goes on (the check only saves work; predicting for an ended batch writes rows nothing merges, it loses nothing).
   */
  async stateOf(batchId: string): Promise<BatchState | null> {
    const now = this.clock.now().getTime();
    const hit = this.entries.get(batchId);
    if (hit && ((hit.state !== null && !takesCompletions(hit.state)) || now - hit.at < this.activeStateTtlMs)) return hit.state;
    let state: BatchState | null;
    try {
      state = (await this.reader.getBatch(batchId))?.state ?? null;
    } catch (err) {
      this.logger.warn({ batch_id: batchId, err: errorMessage(err) }, 'batch state not readable: predicting anyway');
      return null;
    }
    this.entries.delete(batchId);
    this.entries.set(batchId, { state, at: now });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    return state;
  }
}
