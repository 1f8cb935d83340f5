/**
 * Feature rows for requests that arrive without values (an operator's hand-made message): one query per (dataset prefix,
 * date) for every player of the date, kept briefly. A failed query is not cached and surfaces as an error (transient), never
 * as "no features" (the original cached an empty result and acked it as a permanent skip).
 */
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import type { Clock } from '../../../shared/ports/clock.js';
import { loadFeatureRows, type FeatureRow } from '../../../shared/queries/feature-rows.js';

export class FeatureCache {
  private readonly entries = new Map<string, { loadedAt: number; rows: Promise<Map<string, FeatureRow>> }>();

  constructor(
    private readonly warehouse: Warehouse,
    private readonly clock: Clock,
    private readonly ttlMs = 300_000,
  ) {}

  async get(gameDate: string, datasetPrefix: string, player: string): Promise<FeatureRow | undefined> {
    const key = `${datasetPrefix}|${gameDate}`;
    const now = this.clock.now().getTime();
    let entry = this.entries.get(key);
    if (!entry || now - entry.loadedAt > this.ttlMs) {
      entry = { loadedAt: now, rows: loadFeatureRows(this.warehouse, gameDate, datasetPrefix, null) };
      this.entries.set(key, entry);
      entry.rows.catch(() => this.entries.delete(key));
    }
    return (await entry.rows).get(player);
  }
}
