/**
 * The push subscriptions of the product, one definition: which topic is pushed to which service's route, and where its
 * dead letters go. Setup creates them on Pub/Sub (bin/setup); the embedded default's local bus subscribes them the same way.
 * Every dead-letter topic is itself pushed to the coordinator's `/dead-letter`, so a dead letter is never silent.
 */
import { deadLetterTopic, type TopicNames } from '../config/common.js';

export interface PushSubscriptionDef {
  name: string;
  topic: string;
  service: 'worker' | 'coordinator';
  path: string;
  /** Absent for the dead-letter subscriptions themselves. */
  deadLetterTopic?: string;
}

export function pushSubscriptions(topics: TopicNames): PushSubscriptionDef[] {
  const main: PushSubscriptionDef[] = [
    {
      name: `${topics.request}-push`,
      topic: topics.request,
      service: 'worker',
      path: '/predict',
      deadLetterTopic: deadLetterTopic(topics.request),
    },
    {
      name: `${topics.ready}-push`,
      topic: topics.ready,
      service: 'coordinator',
      path: '/complete',
      deadLetterTopic: deadLetterTopic(topics.ready),
    },
    {
      name: `${topics.consolidate}-push`,
      topic: topics.consolidate,
      service: 'coordinator',
      path: '/consolidate',
      deadLetterTopic: deadLetterTopic(topics.consolidate),
    },
    {
      name: `${topics.trigger}-push`,
      topic: topics.trigger,
      service: 'coordinator',
      path: '/regenerate-pubsub',
      deadLetterTopic: deadLetterTopic(topics.trigger),
    },
  ];
  const deadLetters: PushSubscriptionDef[] = main.map((s) => ({
    name: `${s.deadLetterTopic}-push`,
    topic: s.deadLetterTopic as string,
    service: 'coordinator',
    path: '/dead-letter',
  }));
  return [...main, ...deadLetters];
}
