/**
 * Builds the bus the config selects: Pub/Sub (one client per process) or the local bus with one push subscription.
 * The Pub/Sub client and adapter are imported only when selected, so the embedded default never loads `@google-cloud/*`.
 */
import { LocalBus } from '../local-bus/local-bus.js';
import type { Bus } from '../../ports/bus.js';
import type { AppLogger } from '../../ports/logger.js';

export interface BusConfig {
  BUS: 'local' | 'pubsub';
  GCP_PROJECT_ID?: string | undefined;
  PUBSUB_BATCH_MS: number;
}

/** The local bus's stand-in for the push subscription a deployment creates with the setup script. */
export interface LocalPush {
  topic: string;
  endpoint: string | undefined;
}

export async function createBus(cfg: BusConfig, logger: AppLogger, localPush: LocalPush): Promise<Bus> {
  if (cfg.BUS === 'pubsub') {
    if (!cfg.GCP_PROJECT_ID) throw new Error('BUS=pubsub needs GCP_PROJECT_ID');
    const [{ PubSub }, { PubSubBus }] = await Promise.all([import('@google-cloud/pubsub'), import('../pubsub/pubsub-bus.js')]);
    // PUBSUB_EMULATOR_HOST, when set, is honoured by the client.
    return new PubSubBus({ client: new PubSub({ projectId: cfg.GCP_PROJECT_ID }), batching: { maxMilliseconds: cfg.PUBSUB_BATCH_MS } });
  }
  const bus = new LocalBus({ logger: logger.child({ component: 'local-bus' }) });
  if (localPush.endpoint) {
    bus.subscribe({ name: `${localPush.topic}-push`, topic: localPush.topic, pushEndpoint: localPush.endpoint, deadLetterTopic: `${localPush.topic}-dlq` });
  } else {
    logger.warn(`no push endpoint configured for the local bus: messages on ${localPush.topic} have no subscriber`);
  }
  return bus;
}
