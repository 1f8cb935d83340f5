/**
 * Every IAM grant a deployment needs, derived from its description (topology.ts), each on the narrowest resource Google
 * lets the role be granted on, with the reason. Project-level grants are only those whose permission exists nowhere else
 * (BigQuery's jobs.create, Cloud Logging's write) and Firestore's, which is held to the one database by an IAM condition.
 *
 * Google's documentation for each choice:
 *   BigQuery roles on tables (DCL GRANT):     https://cloud.google.com/bigquery/docs/control-access-to-resources-iam#grant_access_to_a_table_or_view
 *   bigquery.jobUser only on projects:        https://cloud.google.com/bigquery/docs/access-control#bigquery.jobUser
 *   Firestore per-database IAM conditions:    https://cloud.google.com/firestore/docs/security/iam#iam_conditions
 *   Pub/Sub topic / subscription roles:       https://cloud.google.com/pubsub/docs/access-control
 *   Push auth and dead lettering (agent):     https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions
 *                                             https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions
 *   run.invoker on one service:               https://cloud.google.com/run/docs/authenticating/service-to-service
 *                                             https://cloud.google.com/scheduler/docs/http-target-auth
 *   Secret-level accessor:                    https://cloud.google.com/secret-manager/docs/manage-access-to-secrets
 *   Bucket-level object viewer:               https://cloud.google.com/storage/docs/access-control/using-iam-permissions
 *   Build account (user-specified):           https://cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts
 *   Build → Cloud Run (admin + actAs):        https://cloud.google.com/build/docs/deploying-builds/deploy-cloud-run#required_iam_permissions
 *   Invoker check needs setIamPolicy:         https://cloud.google.com/run/docs/authenticating/public#required-roles
 *   Artifact Registry repository roles:       https://cloud.google.com/artifact-registry/docs/access-control#grant-repo
 */
import type { Account, Deployment, ServiceKey } from './topology.js';
import { pushSubscriptionName } from './topology.js';

export type Resource =
  | { kind: 'project' }
  | { kind: 'table'; id: string }
  | { kind: 'topic'; name: string }
  | { kind: 'subscription'; name: string }
  | { kind: 'service'; name: string }
  | { kind: 'secret'; name: string }
  | { kind: 'bucket'; name: string }
  | { kind: 'serviceAccount'; email: string }
  | { kind: 'repository'; name: string };

export interface Condition {
  title: string;
  expression: string;
}

export interface Grant {
  /** IAM principal, e.g. `serviceAccount:x@p.iam.gserviceaccount.com`. */
  member: string;
  /** Which of the deployment's accounts, when it is one (the Pub/Sub service agent is not). */
  account: Account | undefined;
  role: string;
  resource: Resource;
  condition?: Condition;
  why: string;
}

export const describeResource = (r: Resource): string => {
  switch (r.kind) {
    case 'project':
      return 'project';
    case 'table':
      return `table ${r.id}`;
    case 'serviceAccount':
      return `service account ${r.email}`;
    default:
      return `${r.kind} ${r.name}`;
  }
};

export function deploymentGrants(d: Deployment): Grant[] {
  const grants: Grant[] = [];
  const as = (account: Account, role: string, resource: Resource, why: string, condition?: Condition) =>
    grants.push({
      member: `serviceAccount:${d.accounts[account].email}`,
      account,
      role,
      resource,
      why,
      ...(condition ? { condition } : {}),
    });
  const agent = (role: string, resource: Resource, why: string) =>
    grants.push({ member: `serviceAccount:${d.pubsubAgent}`, account: undefined, role, resource, why });
  const service = (key: ServiceKey): Resource => ({ kind: 'service', name: d.services[key].name });

  // BigQuery: jobs on the project (the only place jobs.create exists), data on exactly the tables each account uses.
  const bigQueryUsers = new Set(d.tables.flatMap((t) => [...t.read, ...t.write]));
  for (const account of bigQueryUsers)
    as(
      account,
      'roles/bigquery.jobUser',
      { kind: 'project' },
      'run BigQuery query jobs (bigquery.jobs.create is granted only on projects)',
    );
  for (const t of d.tables) {
    const id = `${d.projectId}.${t.table.dataset}.${t.table.name}`;
    for (const account of t.write)
      as(account, 'roles/bigquery.dataEditor', { kind: 'table', id }, `write ${t.table.dataset}.${t.table.name}`);
    for (const account of t.read.filter((a) => !t.write.includes(a)))
      as(account, 'roles/bigquery.dataViewer', { kind: 'table', id }, `read ${t.table.dataset}.${t.table.name}`);
  }

  // Firestore has no per-database policy: the project role is held to the one database by a condition.
  for (const account of d.firestoreUsers) {
    as(
      account,
      'roles/datastore.user',
      { kind: 'project' },
      `read and write the batch store in Firestore database ${d.firestoreDatabase} only`,
      {
        title: `firestore-${d.firestoreDatabase.replace(/[^a-z0-9-]/gi, '')}-only`,
        expression: `resource.name=="projects/${d.projectId}/databases/${d.firestoreDatabase}"`,
      },
    );
  }

  for (const account of d.firestoreReaders) {
    as(
      account,
      'roles/datastore.viewer',
      { kind: 'project' },
      `read the batch store in Firestore database ${d.firestoreDatabase} only (a request of a batch that ended is skipped)`,
      {
        title: `firestore-${d.firestoreDatabase.replace(/[^a-z0-9-]/gi, '')}-read-only`,
        expression: `resource.name=="projects/${d.projectId}/databases/${d.firestoreDatabase}"`,
      },
    );
  }

  for (const topic of d.topics) {
    for (const account of topic.publishers)
      as(account, 'roles/pubsub.publisher', { kind: 'topic', name: topic.name }, `publish to ${topic.name}`);
    if (!topic.push) continue;
    const sub = pushSubscriptionName(topic.name);
    as(
      'pusher',
      'roles/run.invoker',
      service(topic.push.to),
      `deliver ${topic.name} to ${d.services[topic.push.to].name}${topic.push.path}`,
    );
    if (!topic.push.deadLetterTopic) continue;
    agent('roles/pubsub.subscriber', { kind: 'subscription', name: sub }, `acknowledge ${sub} messages it dead-letters`);
    agent('roles/pubsub.publisher', { kind: 'topic', name: topic.push.deadLetterTopic }, `forward dead letters of ${sub}`);
  }
  if (d.topics.some((t) => t.push)) {
    agent(
      'roles/iam.serviceAccountTokenCreator',
      { kind: 'serviceAccount', email: d.accounts.pusher.email },
      'mint the push OIDC tokens as the pusher account (needed for projects created before 2021-04-08)',
    );
  }

  for (const job of d.schedules)
    as('scheduler', 'roles/run.invoker', service(job.to), `call ${d.services[job.to].name}${job.path} from Scheduler job ${job.name}`);

  for (const secret of d.secrets)
    for (const account of secret.readers)
      as(
        account,
        'roles/secretmanager.secretAccessor',
        { kind: 'secret', name: secret.name },
        `read secret ${secret.name} (${secret.purpose})`,
      );

  for (const account of d.modelBucket.readers)
    as(account, 'roles/storage.objectViewer', { kind: 'bucket', name: d.modelBucket.name }, 'download model files');

  // The build: push images, read the staged source, write its logs, deploy the two services as their runtime accounts.
  as(
    'build',
    'roles/logging.logWriter',
    { kind: 'project' },
    'write build logs (cloudbuild.yaml logging: CLOUD_LOGGING_ONLY; log writing is granted only on projects)',
  );
  as('build', 'roles/artifactregistry.writer', { kind: 'repository', name: d.repository }, 'push the two images');
  as('build', 'roles/storage.objectViewer', { kind: 'bucket', name: d.buildBucket }, 'read the source `gcloud builds submit` staged');
  for (const key of Object.keys(d.services) as ServiceKey[]) {
    const s = d.services[key];
    as(
      'build',
      'roles/run.admin',
      service(key),
      `deploy ${s.name}; setting its invoker IAM check (${s.invokerIamCheck ? 'on' : 'off'}) needs run.services.setIamPolicy`,
    );
    as(
      'build',
      'roles/iam.serviceAccountUser',
      { kind: 'serviceAccount', email: d.accounts[s.runsAs].email },
      `deploy ${s.name} to run as ${d.accounts[s.runsAs].id} (actAs)`,
    );
  }
  return merged(grants);
}

/** One grant per (member, role, resource, condition); two jobs calling the same service need one binding, both reasons. */
function merged(grants: readonly Grant[]): Grant[] {
  const byKey = new Map<string, Grant>();
  for (const g of grants) {
    const key = JSON.stringify([g.member, g.role, g.resource, g.condition?.expression ?? null]);
    const seen = byKey.get(key);
    if (seen) seen.why = `${seen.why}; ${g.why}`;
    else byKey.set(key, { ...g });
  }
  return [...byKey.values()];
}

/** The command that makes one grant. Every form adds a binding and leaves an existing one as it is. */
export function grantCommand(g: Grant, d: Deployment, region: string): string[] {
  const p = ['--project', d.projectId];
  const who = [`--member=${g.member}`, `--role=${g.role}`];
  const r = g.resource;
  switch (r.kind) {
    case 'project':
      return [
        'gcloud',
        'projects',
        'add-iam-policy-binding',
        d.projectId,
        ...who,
        `--condition=${g.condition ? `expression=${g.condition.expression},title=${g.condition.title}` : 'None'}`,
        '--quiet',
      ];
    case 'table':
      // BigQuery DCL: a table-level binding (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-control-language).
      return [
        'bq',
        `--project_id=${d.projectId}`,
        `--location=${d.location.bigquery}`,
        'query',
        '--use_legacy_sql=false',
        '--nouse_cache',
        `GRANT \`${g.role}\` ON TABLE \`${r.id}\` TO "${g.member}"`,
      ];
    case 'topic':
      return ['gcloud', 'pubsub', 'topics', 'add-iam-policy-binding', r.name, ...who, ...p];
    case 'subscription':
      return ['gcloud', 'pubsub', 'subscriptions', 'add-iam-policy-binding', r.name, ...who, ...p];
    case 'service':
      return ['gcloud', 'run', 'services', 'add-iam-policy-binding', r.name, `--region=${region}`, ...who, ...p];
    case 'secret':
      return ['gcloud', 'secrets', 'add-iam-policy-binding', r.name, ...who, ...p];
    case 'bucket':
      return ['gcloud', 'storage', 'buckets', 'add-iam-policy-binding', `gs://${r.name}`, ...who, ...p];
    case 'serviceAccount':
      return ['gcloud', 'iam', 'service-accounts', 'add-iam-policy-binding', r.email, ...who, ...p];
    case 'repository':
      return ['gcloud', 'artifacts', 'repositories', 'add-iam-policy-binding', r.name, `--location=${region}`, ...who, ...p];
  }
}
