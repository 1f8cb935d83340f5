/**
 * The completion event of one request message: every player's outcome, published only after the staging write succeeded.
 * A completion that cannot be published makes the request a `retry` (5xx): redelivery repeats the same rows (deterministic
 * ids) and the same completion, so nothing is lost or double-counted.
 */
import type { WorkerDeps } from '../deps.js';
import type { CompletionEvent, PredictionRequest } from '../../../shared/contracts/messages.js';
import type { PlayerCompletion } from '../../../shared/batch/batch-record.js';
import { errorMessage } from '../../../shared/errors/error-message.js';

export async function publishCompletion(deps: WorkerDeps, req: PredictionRequest, players: PlayerCompletion[]): Promise<string | null> {
  const event: CompletionEvent = {
    batch_id: req.batch_id,
    correlation_id: req.correlation_id,
    game_date: req.game_date,
    players,
    timestamp: deps.clock.now().toISOString(),
    worker_instance: deps.settings.instance,
  };
  try {
    const [outcome] = await deps.bus.publish(deps.settings.readyTopic, [
      { data: event, attributes: { batch_id: req.batch_id, game_date: req.game_date } },
    ]);
    return outcome?.ok ? null : `completion event not published: ${outcome?.error ?? 'no outcome'}`;
  } catch (err) {
    return `completion event not published: ${errorMessage(err)}`;
  }
}
