/**
 * What a deployment consists of, as data: the accounts, the two Cloud Run services, the topics (with who publishes and
 * where they are pushed), the Scheduler jobs, the secrets, and which account reads or writes which table. Everything the
 * setup plan creates and every IAM grant it makes is derived from this one description (plan.ts, grants.ts), so a new
 * topic, push subscription, Scheduler job or secret is one entry here and its grants follow:
 *
 *   topics:    { name: `prediction-consolidate${suffix}`, publishers: ['coordinator'], push: { to: 'coordinator', path: '/consolidate', ackDeadlineSeconds: 600 } }
 *   schedules: { name: `prediction-check-lines${suffix}`, to: 'coordinator', schedule: '0 * * * *', path: '/check-lines', body: '{}', attemptDeadline: '300s' }
 *   secrets:   { name: 'slack-webhook-url', readers: ['coordinator'], purpose: 'Slack incoming webhook for alerts' }
 *
 * test/unit/setup-least-privilege.test.ts renders the plan and checks every grant in it, whatever the entries.
 */
import { topicNames } from '../../shared/config/common.js';
import { pushSubscriptions } from '../../shared/embedded/topology.js';
import { dataLocation, type DataLocation } from '../../shared/config/locations.js';
import {
  bettingprosPlayerPointsProps,
  dailyPredictionSignals,
  gamePostponements,
  mlFeatureStoreV2,
  nbacInjuryReport,
  modelRegistry,
  nbacSchedule,
  oddsApiPlayerPointsProps,
  playerGameSummary,
  playerPropPredictions,
  predictionRegenerationAudit,
  predictionStaging,
  processorRunHistory,
  upcomingPlayerGameContext,
  type TableDef,
} from '../../shared/contracts/tables.js';

export interface SetupOptions {
  projectId: string;
  /** Needed for the Pub/Sub service agent's address and Cloud Run's deterministic URLs. */
  projectNumber: string;
  /** Cloud Run, Cloud Scheduler and Artifact Registry region. */
  region: string;
  /** The one data location (shared/config/locations.ts): BigQuery datasets and jobs, Firestore, the buckets. */
  location: string;
  /** Appended to service, topic and job names, e.g. `-prod`. */
  suffix: string;
  /** The coordinator's and worker's Cloud Run URLs (Cloud Run's deterministic URLs unless given). */
  coordinatorUrl: string;
  workerUrl: string;
  /** `CREATE SCHEMA/TABLE IF NOT EXISTS` statements rendered from the one table schema. */
  ddl: readonly string[];
  modelBucket: string;
  /** Where `gcloud builds submit` stages the source (`--gcs-source-staging-dir`); the build account reads it. */
  buildBucket: string;
  /** The Firestore database of the batch store (the coordinator's FIRESTORE_DATABASE). */
  firestoreDatabase: string;
  /** Daily `/start` schedule (cron, America/New_York). */
  startSchedule: string;
  maxDeliveryAttempts: number;
}

/** The identities setup creates. `runtime` accounts are the ones the least-privilege rules are strictest about. */
export type Account = 'coordinator' | 'worker' | 'pusher' | 'scheduler' | 'build';
export type ServiceKey = 'coordinator' | 'worker';

export interface AccountSpec {
  id: string;
  email: string;
  /** What the account is for (display name and docs). */
  purpose: string;
}

export interface ServiceSpec {
  name: string;
  url: string;
  /** The account the service runs as. */
  runsAs: Account;
  /**
   * Cloud Run's invoker IAM check. Off for the coordinator: operators call it with API keys, which Cloud Run's IAM would
   * refuse, and it verifies every caller itself (docs/security.md). On for the worker (PUSH_AUTH=iam).
   */
  invokerIamCheck: boolean;
}

export interface PushSpec {
  to: ServiceKey;
  path: string;
  /** For push, the request timeout of each delivery (10–600 s). */
  ackDeadlineSeconds: number;
  /** Where Pub/Sub forwards a message after the maximum delivery attempts; absent on the dead-letter topics themselves. */
  deadLetterTopic?: string;
}

export interface TopicSpec {
  name: string;
  publishers: readonly Account[];
  /** A push subscription `<topic>-push` to this endpoint, OIDC as the pusher (dead-lettered when `deadLetterTopic` is set). */
  push?: PushSpec;
}

export interface ScheduleSpec {
  name: string;
  to: ServiceKey;
  /** Cron, in `timeZone` (default America/New_York). */
  schedule: string;
  timeZone?: string;
  path: string;
  body: string;
  attemptDeadline: string;
}

export interface SecretSpec {
  name: string;
  readers: readonly Account[];
  purpose: string;
}

export interface TableAccess {
  table: TableDef;
  read: readonly Account[];
  write: readonly Account[];
}

export interface Deployment {
  projectId: string;
  location: DataLocation;
  accounts: Record<Account, AccountSpec>;
  services: Record<ServiceKey, ServiceSpec>;
  topics: readonly TopicSpec[];
  schedules: readonly ScheduleSpec[];
  secrets: readonly SecretSpec[];
  tables: readonly TableAccess[];
  /** The models bucket and who reads it. */
  modelBucket: { name: string; readers: readonly Account[] };
  buildBucket: string;
  /** The Artifact Registry repository the build pushes to (cloudbuild.yaml `_REPO`). */
  repository: string;
  firestoreDatabase: string;
  /** Who uses the Firestore database (the batch store): reads and writes it. */
  firestoreUsers: readonly Account[];
  /** Who only reads it: the worker skips requests of batches that ended (services/worker/predict/batch-state.ts). */
  firestoreReaders: readonly Account[];
  /** The Pub/Sub service agent: signs push tokens, forwards dead letters. */
  pubsubAgent: string;
}

export const REPOSITORY = 'nba-predictions';

export const serviceNames = (suffix: string) => ({
  coordinator: `prediction-coordinator${suffix}`,
  worker: `prediction-worker${suffix}`,
});

export function serviceAccounts(projectId: string): Record<Account, AccountSpec> {
  const sa = (id: string, purpose: string): AccountSpec => ({ id, email: `${id}@${projectId}.iam.gserviceaccount.com`, purpose });
  return {
    coordinator: sa('prediction-coordinator', 'runs the coordinator'),
    worker: sa('prediction-worker', 'runs the worker'),
    pusher: sa('prediction-pubsub-push', 'the identity Pub/Sub signs push tokens as'),
    scheduler: sa('prediction-scheduler', 'the identity Cloud Scheduler signs its tokens as'),
    build: sa('prediction-build', 'runs the Cloud Build that builds and deploys both services'),
  };
}

export function deployment(o: SetupOptions): Deployment {
  const topics = topicNames(o.suffix);
  const names = serviceNames(o.suffix);
  return {
    projectId: o.projectId,
    location: dataLocation(o.location),
    accounts: serviceAccounts(o.projectId),
    services: {
      coordinator: { name: names.coordinator, url: o.coordinatorUrl, runsAs: 'coordinator', invokerIamCheck: false },
      worker: { name: names.worker, url: o.workerUrl, runsAs: 'worker', invokerIamCheck: true },
    },
    topics: [
      ...pushedTopics(o.suffix),
      // Phase 6 (downstream) subscribes to it; this product only publishes.
      { name: topics.phase5, publishers: ['coordinator'] },
      // /health/deep of both services publishes a probe here; nothing subscribes.
      { name: topics.health, publishers: ['coordinator', 'worker'] },
    ],
    schedules: [
      {
        name: `prediction-start${o.suffix}`,
        to: 'coordinator',
        schedule: o.startSchedule,
        path: '/start',
        body: '{"game_date":"TODAY"}',
        attemptDeadline: '180s',
      },
      {
        name: `prediction-check-stalled${o.suffix}`,
        to: 'coordinator',
        schedule: '*/5 * * * *',
        path: '/check-stalled',
        body: '{}',
        attemptDeadline: '600s',
      },
      // Lines move through the day: re-predict the players whose line moved by a point or more, hourly until tip-off.
      {
        name: `prediction-check-lines${o.suffix}`,
        to: 'coordinator',
        schedule: '0 11-23 * * *',
        path: '/check-lines',
        body: '{"game_date":"TODAY","line_change_threshold":1.0}',
        attemptDeadline: '180s',
      },
      {
        name: `prediction-morning-summary${o.suffix}`,
        to: 'coordinator',
        schedule: '30 8 * * *',
        path: '/morning-summary',
        body: '{"game_date":"TODAY"}',
        attemptDeadline: '60s',
      },
      {
        name: `prediction-check-signal${o.suffix}`,
        to: 'coordinator',
        schedule: '0 12 * * *',
        path: '/check-signal',
        body: '{"game_date":"TODAY","send_alert":true}',
        attemptDeadline: '60s',
      },
    ],
    secrets: [
      { name: 'coordinator-api-key', readers: ['coordinator'], purpose: 'operator API keys, one per line (COORDINATOR_API_KEY_SECRET)' },
      {
        name: 'slack-webhook-url',
        readers: ['coordinator'],
        purpose: 'the Slack incoming webhook alerts are posted to (SLACK_WEBHOOK_SECRET)',
      },
    ],
    // Which account touches which table, checked against the SQL each service runs (test/unit/setup-least-privilege.test.ts).
    tables: [
      { table: upcomingPlayerGameContext, read: ['coordinator'], write: [] },
      { table: oddsApiPlayerPointsProps, read: ['coordinator'], write: [] },
      { table: bettingprosPlayerPointsProps, read: ['coordinator'], write: [] },
      { table: nbacSchedule, read: ['coordinator'], write: [] },
      { table: playerGameSummary, read: ['coordinator'], write: [] },
      { table: gamePostponements, read: ['coordinator'], write: [] },
      { table: nbacInjuryReport, read: ['coordinator'], write: [] },
      { table: mlFeatureStoreV2, read: ['coordinator', 'worker'], write: [] },
      { table: modelRegistry, read: ['coordinator', 'worker'], write: [] },
      { table: predictionStaging, read: ['coordinator'], write: ['worker'] },
      { table: playerPropPredictions, read: [], write: ['coordinator'] },
      { table: processorRunHistory, read: [], write: ['coordinator'] },
      { table: predictionRegenerationAudit, read: [], write: ['coordinator'] },
      { table: dailyPredictionSignals, read: [], write: ['coordinator'] },
    ],
    modelBucket: { name: o.modelBucket, readers: ['worker'] },
    buildBucket: o.buildBucket,
    repository: REPOSITORY,
    firestoreDatabase: o.firestoreDatabase,
    firestoreUsers: ['coordinator'],
    firestoreReaders: ['worker'],
    pubsubAgent: `service-${o.projectNumber}@gcp-sa-pubsub.iam.gserviceaccount.com`,
  };
}

/**
 * The pushed topics, from the product's one push topology (shared/embedded/topology.ts, which the local bus subscribes
 * too): who publishes each, and each delivery's request timeout. Dead-letter topics are pushed to the coordinator's
 * `/dead-letter`, so a dead letter is recorded on its batch, never silent; Pub/Sub's service agent publishes them.
 */
function pushedTopics(suffix: string): TopicSpec[] {
  const topics = topicNames(suffix);
  // The trigger topic is published upstream (Phase 4), by accounts this setup does not own.
  const publishers: Record<string, readonly Account[]> = {
    [topics.request]: ['coordinator'],
    [topics.ready]: ['worker'],
    [topics.consolidate]: ['coordinator'],
  };
  // The worker answers in well under a minute; /complete and /dead-letter only record; /consolidate ends its work within
  // CONSOLIDATION_DEADLINE_SECONDS (540 s by default) or answers 5xx, inside the 600 s maximum.
  // /regenerate-pubsub runs a whole regeneration before it answers.
  const ackDeadlineSeconds: Record<string, number> = {
    '/predict': 60,
    '/complete': 60,
    '/consolidate': 600,
    '/regenerate-pubsub': 600,
    '/dead-letter': 60,
  };
  return pushSubscriptions(topics).map((s) => {
    const ack = ackDeadlineSeconds[s.path];
    if (ack === undefined) throw new Error(`no ack deadline for push path ${s.path}`);
    return {
      name: s.topic,
      publishers: publishers[s.topic] ?? [],
      push: { to: s.service, path: s.path, ackDeadlineSeconds: ack, ...(s.deadLetterTopic ? { deadLetterTopic: s.deadLetterTopic } : {}) },
    };
  });
}

export const pushSubscriptionName = (topic: string) => `${topic}-push`;
export const deadLetterTopic = (topic: string) => `${topic}-dlq`;
export const deadLetterSubscription = (topic: string) => `${deadLetterTopic(topic)}-sub`;
