/** Builds the Pub/Sub bus (one client per process). The Google client is loaded only here, only when Pub/Sub is chosen. */
import type { Bus } from '../../ports/bus.js';

export interface PubSubConfig {
  GCP_PROJECT_ID?: string | undefined;
  PUBSUB_BATCH_MS: number;
}

export async function createPubSubBus(cfg: PubSubConfig): Promise<Bus> {
  if (!cfg.GCP_PROJECT_ID) throw new Error('BUS=pubsub needs GCP_PROJECT_ID');
  const [{ PubSub }, { PubSubBus }] = await Promise.all([import('@google-cloud/pubsub'), import('../pubsub/pubsub-bus.js')]);
  // PUBSUB_EMULATOR_HOST, when set, is honoured by the client.
  return new PubSubBus({ client: new PubSub({ projectId: cfg.GCP_PROJECT_ID }), batching: { maxMilliseconds: cfg.PUBSUB_BATCH_MS } });
}
