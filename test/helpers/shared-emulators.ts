/**
 * The run's Pub/Sub and Firestore emulators, started once by test/global-setup.ts and shared by every file. A file
 * isolates itself with its own project id (topics, subscriptions and documents are per project) and its own Firestore
 * root. Null where gcloud is not installed: the caller skips, and this prints why.
 */
import { inject } from 'vitest';
import { GCLOUD_SKIP_MESSAGE } from './gcloud-emulators.js';

export interface SharedEmulators {
  /** `127.0.0.1:PORT` */
  pubsub: string;
  firestore: string;
}

export function sharedEmulators(): SharedEmulators | null {
  const pubsub = inject('pubsubEmulatorHost');
  const firestore = inject('firestoreEmulatorHost');
  if (!pubsub || !firestore) {
    console.warn(GCLOUD_SKIP_MESSAGE);
    return null;
  }
  return { pubsub, firestore };
}
