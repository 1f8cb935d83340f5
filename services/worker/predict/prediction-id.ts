/** Deterministic prediction id: the same (batch, game, player, system, line) always gives the same id. */
import { createHash } from 'node:crypto';

export function predictionId(batchId: string, gameId: string, player: string, systemId: string, line: number | null): string {
  const lineKey = line === null ? 'none' : (Math.round(line * 10) / 10).toFixed(1);
  return createHash('sha256').update([batchId, gameId, player, systemId, lineKey].join('|')).digest('hex').slice(0, 32);
}
