/**
 * The Google Cloud setup as a list of steps: every resource the two services need, each with an optional existence check so
 * a re-run creates only what is missing. Pure: builds commands, runs nothing (run-plan.ts does).
 */
import { topicNames } from '../../shared/config/common.js';

export interface SetupOptions {
  projectId: string;
  /** Needed for the Pub/Sub service agent's address. */
  projectNumber: string;
  region: string;
  /** BigQuery and Firestore location (e.g. `US`, `us-west2`). */
  location: string;
  /** Appended to service and topic names, e.g. `-prod`. */
  suffix: string;
  /** The coordinator's and worker's Cloud Run URLs; looked up with `gcloud run services describe` when not given. */
  coordinatorUrl: string;
  workerUrl: string;
  /** `CREATE SCHEMA/TABLE IF NOT EXISTS` statements rendered from the one table schema. */
  ddl: readonly string[];
  modelBucket: string;
  /** Daily `/start` schedule (cron, America/New_York). */
  startSchedule: string;
  maxDeliveryAttempts: number;
}

export interface Step {
  /** What the step makes, for the printed plan. */
  title: string;
  /** Exit 0 means the resource exists and `run` is skipped. */
  check?: readonly string[];
  run: readonly string[];
  /** Output of a failed `run` that means the resource is already there (for commands with no describe). */
  alreadyDone?: string;
}

export const serviceNames = (suffix: string) => ({
  coordinator: `prediction-coordinator${suffix}`,
  worker: `prediction-worker${suffix}`,
});

export const serviceAccounts = (projectId: string) => {
  const sa = (name: string) => `${name}@${projectId}.iam.gserviceaccount.com`;
  return {
    coordinator: sa('prediction-coordinator'),
    worker: sa('prediction-worker'),
    /** The identity Pub/Sub signs push OIDC tokens as. */
    pusher: sa('prediction-pubsub-push'),
    /** The identity Cloud Scheduler signs its OIDC tokens as. */
    scheduler: sa('prediction-scheduler'),
  };
};

const APIS = [
  'run.googleapis.com',
  'pubsub.googleapis.com',
  'bigquery.googleapis.com',
  'firestore.googleapis.com',
  'cloudscheduler.googleapis.com',
  'secretmanager.googleapis.com',
  'artifactregistry.googleapis.com',
  'cloudbuild.googleapis.com',
  'storage.googleapis.com',
];

const PROJECT_ROLES: Record<'coordinator' | 'worker', readonly string[]> = {
  coordinator: ['roles/bigquery.jobUser', 'roles/bigquery.dataEditor', 'roles/datastore.user', 'roles/pubsub.publisher', 'roles/secretmanager.secretAccessor', 'roles/logging.logWriter'],
  worker: ['roles/bigquery.jobUser', 'roles/bigquery.dataEditor', 'roles/pubsub.publisher', 'roles/storage.objectViewer', 'roles/logging.logWriter'],
};

export function buildSetupPlan(o: SetupOptions): Step[] {
  const p = ['--project', o.projectId];
  const topics = topicNames(o.suffix);
  const sas = serviceAccounts(o.projectId);
  const pubsubAgent = `service-${o.projectNumber}@gcp-sa-pubsub.iam.gserviceaccount.com`;
  const steps: Step[] = [];

  steps.push({ title: 'enable the APIs', run: ['gcloud', 'services', 'enable', ...APIS, ...p] });

  for (const [name, email] of Object.entries(sas)) {
    const id = email.split('@')[0] ?? name;
    steps.push({
      title: `service account ${id}`,
      check: ['gcloud', 'iam', 'service-accounts', 'describe', email, ...p],
      run: ['gcloud', 'iam', 'service-accounts', 'create', id, `--display-name=NBA predictions: ${name}`, ...p],
    });
  }
  for (const who of ['coordinator', 'worker'] as const) {
    for (const role of PROJECT_ROLES[who]) {
      // add-iam-policy-binding is idempotent: a binding that exists is left as it is.
      steps.push({ title: `${who} may ${role}`, run: ['gcloud', 'projects', 'add-iam-policy-binding', o.projectId, `--member=serviceAccount:${sas[who]}`, `--role=${role}`, '--condition=None', '--quiet'] });
    }
  }
  // Pub/Sub mints the push OIDC tokens as the pusher account, and needs to forward dead letters.
  steps.push({
    title: 'Pub/Sub may sign push tokens as the pusher account',
    run: ['gcloud', 'iam', 'service-accounts', 'add-iam-policy-binding', sas.pusher, `--member=serviceAccount:${pubsubAgent}`, '--role=roles/iam.serviceAccountTokenCreator', ...p],
  });

  steps.push({
    title: 'Artifact Registry repository nba-predictions',
    check: ['gcloud', 'artifacts', 'repositories', 'describe', 'nba-predictions', `--location=${o.region}`, ...p],
    run: ['gcloud', 'artifacts', 'repositories', 'create', 'nba-predictions', '--repository-format=docker', `--location=${o.region}`, ...p],
  });
  steps.push({
    title: 'Firestore database (batch state)',
    check: ['gcloud', 'firestore', 'databases', 'describe', '--database=(default)', ...p],
    run: ['gcloud', 'firestore', 'databases', 'create', `--location=${o.location.toLowerCase() === 'us' ? 'nam5' : o.location}`, '--type=firestore-native', ...p],
  });
  // The batch store's two queries (docs/operations.md → Firestore): active batches, and a date's latest batch.
  for (const [first, firstOrder] of [['state', 'ascending'], ['game_date', 'ascending']] as const) {
    steps.push({
      title: `Firestore index batches(${first}, started_at desc)`,
      run: ['gcloud', 'firestore', 'indexes', 'composite', 'create', '--collection-group=batches', '--query-scope=COLLECTION', `--field-config=field-path=${first},order=${firstOrder}`, '--field-config=field-path=started_at,order=descending', '--async', ...p],
      alreadyDone: 'ALREADY_EXISTS',
    });
  }
  steps.push({
    title: `model bucket gs://${o.modelBucket}`,
    check: ['gcloud', 'storage', 'buckets', 'describe', `gs://${o.modelBucket}`, ...p],
    run: ['gcloud', 'storage', 'buckets', 'create', `gs://${o.modelBucket}`, `--location=${o.location}`, '--uniform-bucket-level-access', ...p],
  });
  steps.push({
    title: 'secret coordinator-api-key (add a version with: gcloud secrets versions add coordinator-api-key --data-file=-)',
    check: ['gcloud', 'secrets', 'describe', 'coordinator-api-key', ...p],
    run: ['gcloud', 'secrets', 'create', 'coordinator-api-key', '--replication-policy=automatic', ...p],
  });

  for (const sql of o.ddl) {
    const what = /^CREATE\s+(SCHEMA|TABLE)\s+IF\s+NOT\s+EXISTS\s+`?([^`\s(]+)/i.exec(sql);
    steps.push({
      title: what ? `BigQuery ${what[1]?.toLowerCase()} ${what[2]}` : 'BigQuery DDL',
      run: ['bq', `--project_id=${o.projectId}`, `--location=${o.location}`, 'query', '--use_legacy_sql=false', '--nouse_cache', sql],
    });
  }

  const dlq = (topic: string) => `${topic}-dlq`;
  for (const topic of [topics.request, topics.ready, topics.phase5, dlq(topics.request), dlq(topics.ready)]) {
    steps.push({ title: `topic ${topic}`, check: ['gcloud', 'pubsub', 'topics', 'describe', topic, ...p], run: ['gcloud', 'pubsub', 'topics', 'create', topic, ...p] });
  }
  const pushSubscription = (name: string, topic: string, endpoint: string, audience: string, ackDeadline: number): Step[] => {
    const settings = [
      `--push-endpoint=${endpoint}`,
      `--push-auth-service-account=${sas.pusher}`,
      `--push-auth-token-audience=${audience}`,
      `--ack-deadline=${ackDeadline}`,
      `--dead-letter-topic=${dlq(topic)}`,
      `--max-delivery-attempts=${o.maxDeliveryAttempts}`,
      '--min-retry-delay=10s',
      '--max-retry-delay=600s',
      ...p,
    ];
    return [
      // `update` on an existing subscription keeps settings in step with this plan on a re-run.
      { title: `push subscription ${name} → ${endpoint}`, check: ['gcloud', 'pubsub', 'subscriptions', 'describe', name, ...p], run: ['gcloud', 'pubsub', 'subscriptions', 'create', name, `--topic=${topic}`, ...settings] },
      { title: `push subscription ${name}: settings`, run: ['gcloud', 'pubsub', 'subscriptions', 'update', name, ...settings] },
      // Dead-lettering needs Pub/Sub to subscribe here and publish to the dead-letter topic.
      { title: `Pub/Sub may acknowledge ${name} when dead-lettering`, run: ['gcloud', 'pubsub', 'subscriptions', 'add-iam-policy-binding', name, `--member=serviceAccount:${pubsubAgent}`, '--role=roles/pubsub.subscriber', ...p] },
      { title: `Pub/Sub may publish to ${dlq(topic)}`, run: ['gcloud', 'pubsub', 'topics', 'add-iam-policy-binding', dlq(topic), `--member=serviceAccount:${pubsubAgent}`, '--role=roles/pubsub.publisher', ...p] },
      { title: `pull subscription ${dlq(topic)}-sub (holds dead letters for inspection)`, check: ['gcloud', 'pubsub', 'subscriptions', 'describe', `${dlq(topic)}-sub`, ...p], run: ['gcloud', 'pubsub', 'subscriptions', 'create', `${dlq(topic)}-sub`, `--topic=${dlq(topic)}`, '--message-retention-duration=7d', '--ack-deadline=60', ...p] },
    ];
  };
  // The worker answers in well under a minute; consolidation runs inside the /complete that finishes a batch.
  steps.push(...pushSubscription(`${topics.request}-push`, topics.request, `${o.workerUrl}/predict`, o.workerUrl, 60));
  steps.push(...pushSubscription(`${topics.ready}-push`, topics.ready, `${o.coordinatorUrl}/complete`, o.coordinatorUrl, 600));

  // Project-level, so the bindings can exist before the first deploy creates the services (Cloud Run checks it per call).
  for (const who of ['pusher', 'scheduler'] as const) {
    steps.push({ title: `${who} may invoke Cloud Run services`, run: ['gcloud', 'projects', 'add-iam-policy-binding', o.projectId, `--member=serviceAccount:${sas[who]}`, '--role=roles/run.invoker', '--condition=None', '--quiet'] });
  }

  const schedulerJob = (name: string, schedule: string, path: string, body: string, deadline: string): Step => ({
    title: `scheduler job ${name} (${schedule} America/New_York → POST ${path})`,
    check: ['gcloud', 'scheduler', 'jobs', 'describe', name, `--location=${o.region}`, ...p],
    run: [
      'gcloud', 'scheduler', 'jobs', 'create', 'http', name,
      `--location=${o.region}`,
      `--schedule=${schedule}`,
      '--time-zone=America/New_York',
      `--uri=${o.coordinatorUrl}${path}`,
      '--http-method=POST',
      '--headers=Content-Type=application/json',
      `--message-body=${body}`,
      `--oidc-service-account-email=${sas.scheduler}`,
      `--oidc-token-audience=${o.coordinatorUrl}`,
      `--attempt-deadline=${deadline}`,
      '--max-retry-attempts=2',
      '--min-backoff=60s',
      ...p,
    ],
  });
  steps.push(schedulerJob(`prediction-start${o.suffix}`, o.startSchedule, '/start', '{"game_date":"TODAY"}', '180s'));
  steps.push(schedulerJob(`prediction-check-stalled${o.suffix}`, '*/5 * * * *', '/check-stalled', '{}', '600s'));
  return steps;
}
