/** Buses that misbehave the way a transport can: a request message lost for good (accepted, never delivered). */
import type { Bus, OutgoingMessage } from '../../shared/ports/bus.js';

/**
 * Accepts and silently drops request messages that carry any of `players` (run with PLAYERS_PER_MESSAGE=1 to lose exactly
 * them), or every request message (`'all'`: a test that reads only /start's answer has no worker predict the batch).
 */
export function losingBus(requestTopic: string, players: ReadonlySet<string> | 'all'): (bus: Bus) => Bus {
  return (bus) => ({
    async publish(topic: string, messages: OutgoingMessage[]) {
      if (topic !== requestTopic) return bus.publish(topic, messages);
      const lost = (m: OutgoingMessage) =>
        players === 'all' ||
        ((m.data as { players?: Array<{ player_lookup: string }> }).players ?? []).some((p) => players.has(p.player_lookup));
      const kept = messages.filter((m) => !lost(m));
      const results = kept.length > 0 ? await bus.publish(topic, kept) : [];
      let k = 0;
      return messages.map((m, i) =>
        lost(m) ? { ok: true as const, messageId: `lost-${i}` } : (results[k++] ?? { ok: false as const, error: 'no outcome' }),
      );
    },
    close: () => bus.close(),
  });
}
