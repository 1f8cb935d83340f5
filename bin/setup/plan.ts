/**
 * The Google Cloud setup as a list of steps rendered from the deployment's description (topology.ts): every resource the
 * two services need and every grant (grants.ts). Re-running converges: a missing resource is created, an existing one is
 * compared with the plan and updated where it differs (push subscriptions, Scheduler jobs), grants are added (and project
 * roles the plan no longer gives the deployment's accounts are removed), and what Google builds asynchronously (Firestore
 * indexes) is waited for. Pure: builds commands and comparisons, runs nothing (run-plan.ts does).
 */
import {
  deployment,
  deadLetterSubscription,
  pushSubscriptionName,
  REPOSITORY,
  type Account,
  type Deployment,
  type SetupOptions,
} from './topology.js';
import { deploymentGrants, grantCommand, type Grant } from './grants.js';
import { shellLine, type Convergence, type Step } from './run-plan.js';

export type { SetupOptions } from './topology.js';
export { serviceAccounts, serviceNames } from './topology.js';

const APIS = [
  'iam.googleapis.com',
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

/**
 * A container that answers 200 on every path, Google's own sample (https://cloud.google.com/run/docs/quickstarts/deploy-container):
 * it holds the service until the first build deploys, so roles can be granted on the service instead of the project.
 */
export const PLACEHOLDER_IMAGE = 'us-docker.pkg.dev/cloudrun/container/hello';

/**
 * IAM is eventually consistent: a binding for an account created seconds ago can be refused as "does not exist"
 * (https://cloud.google.com/iam/docs/service-accounts-create#creating). Such refusals are retried for about two minutes.
 */
export const IAM_PROPAGATION_RETRY = {
  delaysMs: [5_000, 10_000, 20_000, 30_000, 60_000],
  when: /(service ?account|principal|member|serviceAccount:)[^\n]*(does not exist|not found|is invalid|invalid)|(does not exist|not found|invalid)[^\n]*(service ?account|principal)/i,
  reason: 'IAM has not seen the new account yet',
};

// ---------------------------------------------------------------------------------------------------------------------
// Comparing what exists with the plan

type Json = Record<string, unknown>;

function parseJson(text: string, what: string): Json {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Json;
  } catch {
    // fall through
  }
  throw new Error(`could not read ${what} (expected JSON from --format=json): ${text.slice(0, 200)}`);
}

function at(obj: Json, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) cur = typeof cur === 'object' && cur !== null ? (cur as Json)[key] : undefined;
  return cur;
}

/** The fields of `actual` (by dotted path) that differ from `wanted`, as "path: actual → wanted". */
export function differences(actual: Json, wanted: Record<string, string | number>): string[] {
  return Object.entries(wanted)
    .filter(([path, value]) => String(at(actual, path) ?? '') !== String(value))
    .map(([path, value]) => `${path}: ${JSON.stringify(at(actual, path) ?? null)} → ${JSON.stringify(value)}`);
}

function compare(wanted: Record<string, string | number>, update: readonly string[], what: string): (found: string) => Convergence {
  return (found) => {
    const diff = differences(parseJson(found, what), wanted);
    return diff.length === 0 ? { kind: 'in_place' } : { kind: 'update', differences: diff, commands: [update] };
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// The plan

/** `describe` is the deployment to set up; by default the one topology.ts describes for these options. */
export function buildSetupPlan(o: SetupOptions, describe: (o: SetupOptions) => Deployment = deployment): Step[] {
  const d = describe(o);
  const p = ['--project', o.projectId];
  const steps: Step[] = [];

  steps.push({ title: 'enable the APIs', run: ['gcloud', 'services', 'enable', ...APIS, ...p] });

  for (const [key, account] of Object.entries(d.accounts)) {
    steps.push({
      title: `service account ${account.id} (${account.purpose})`,
      check: { argv: ['gcloud', 'iam', 'service-accounts', 'describe', account.email, ...p] },
      run: [
        'gcloud',
        'iam',
        'service-accounts',
        'create',
        account.id,
        `--display-name=NBA predictions: ${key}`,
        `--description=${account.purpose}`,
        ...p,
      ],
    });
  }

  steps.push({
    title: `Artifact Registry repository ${REPOSITORY}`,
    check: { argv: ['gcloud', 'artifacts', 'repositories', 'describe', REPOSITORY, `--location=${o.region}`, ...p] },
    run: ['gcloud', 'artifacts', 'repositories', 'create', REPOSITORY, '--repository-format=docker', `--location=${o.region}`, ...p],
  });

  for (const [bucket, what] of [
    [d.modelBucket.name, 'model files'],
    [d.buildBucket, 'sources staged by gcloud builds submit'],
  ] as const) {
    steps.push({
      title: `bucket gs://${bucket} (${what})`,
      check: { argv: ['gcloud', 'storage', 'buckets', 'describe', `gs://${bucket}`, ...p] },
      run: [
        'gcloud',
        'storage',
        'buckets',
        'create',
        `gs://${bucket}`,
        `--location=${d.location.storage}`,
        '--uniform-bucket-level-access',
        ...p,
      ],
    });
  }

  steps.push(...firestoreSteps(d, p));

  for (const secret of d.secrets) {
    steps.push({
      title: `secret ${secret.name}: ${secret.purpose} (add a version with: gcloud secrets versions add ${secret.name} --data-file=-)`,
      check: { argv: ['gcloud', 'secrets', 'describe', secret.name, ...p] },
      run: ['gcloud', 'secrets', 'create', secret.name, '--replication-policy=automatic', ...p],
    });
  }

  for (const sql of o.ddl) {
    const what = /^CREATE\s+(SCHEMA|TABLE)\s+IF\s+NOT\s+EXISTS\s+`?([^`\s(]+)/i.exec(sql);
    steps.push({
      title: what ? `BigQuery ${what[1]?.toLowerCase()} ${what[2]}` : 'BigQuery DDL',
      run: [
        'bq',
        `--project_id=${o.projectId}`,
        `--location=${d.location.bigquery}`,
        'query',
        '--use_legacy_sql=false',
        '--nouse_cache',
        sql,
      ],
    });
  }

  steps.push(...pubsubSteps(d, o, p));

  // The services exist before the first build so their IAM bindings can be made on them, not on the project.
  for (const s of Object.values(d.services)) {
    steps.push({
      title: `Cloud Run service ${s.name} (a placeholder until the first build deploys it)`,
      check: { argv: ['gcloud', 'run', 'services', 'describe', s.name, `--region=${o.region}`, ...p] },
      run: [
        'gcloud',
        'run',
        'deploy',
        s.name,
        `--image=${PLACEHOLDER_IMAGE}`,
        `--region=${o.region}`,
        `--service-account=${d.accounts[s.runsAs].email}`,
        '--no-allow-unauthenticated',
        ...p,
      ],
    });
  }

  const grants = deploymentGrants(d);
  const created = new Set(
    o.ddl.map((sql) => /^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+`([^`]+)`/i.exec(sql)?.[1]).filter((id) => id !== undefined),
  );
  for (const g of grants) {
    const upstream = g.resource.kind === 'table' && !created.has(g.resource.id);
    steps.push({
      title: `${g.member.replace(/^serviceAccount:/, '')} gets ${g.role} on ${resourceLabel(g)}: ${g.why}`,
      run: grantCommand(g, d, o.region),
      retry: IAM_PROPAGATION_RETRY,
      ...(upstream
        ? {
            hint: `${g.resource.kind === 'table' ? g.resource.id : ''} belongs to the upstream phases and must exist before it can be granted; in a sandbox project re-run setup with --with-source-tables`,
          }
        : {}),
    });
  }
  steps.push(projectRoleReconcile(d, grants));

  for (const job of d.schedules) steps.push(schedulerStep(d, o, job, p));
  return steps;
}

const resourceLabel = (g: Grant): string => {
  const r = g.resource;
  return r.kind === 'project'
    ? `the project${g.condition ? ` (only ${g.condition.expression})` : ''}`
    : r.kind === 'table'
      ? `table ${r.id}`
      : r.kind === 'serviceAccount'
        ? `account ${r.email}`
        : `${r.kind} ${r.name}`;
};

function firestoreSteps(d: Deployment, p: string[]): Step[] {
  const db = `--database=${d.firestoreDatabase}`;
  const describe = ['gcloud', 'firestore', 'databases', 'describe', db, '--format=json', ...p];
  const steps: Step[] = [
    {
      title: `Firestore database ${d.firestoreDatabase} in Native mode at ${d.location.firestore} (batch state)`,
      check: { argv: describe },
      run: ['gcloud', 'firestore', 'databases', 'create', db, `--location=${d.location.firestore}`, '--type=firestore-native', ...p],
      converge: (found) => {
        const current = parseJson(found, 'the Firestore database');
        // The batch store uses the Firestore (Native mode) API; an empty database can change mode
        // (https://cloud.google.com/datastore/docs/firestore-or-datastore#changing_between_native_mode_and_datastore_mode).
        if (current.type !== 'FIRESTORE_NATIVE') {
          return {
            kind: 'refuse',
            message:
              `Firestore database ${d.firestoreDatabase} of ${d.projectId} is in ${String(current.type ?? 'an unknown mode')}, and the batch store needs Native mode. ` +
              `If it holds no data, switch it: gcloud firestore databases update ${db} --type=firestore-native --project ${d.projectId}, then re-run setup. ` +
              `If it holds Datastore data, keep it and give the batch store its own database: re-run setup with --firestore-database=batches and build with _FIRESTORE_DATABASE=batches.`,
          };
        }
        const note =
          current.locationId !== d.location.firestore
            ? [
                `it is at ${String(current.locationId)}, not ${d.location.firestore} (a database cannot move; the batch store works from any location)`,
              ]
            : [];
        return { kind: 'in_place', notes: note };
      },
      convergeNote: 'refused unless it is in Native mode',
    },
  ];
  // The batch store's two queries (docs/operations.md → Firestore): active batches, and a date's latest batch.
  for (const first of ['state', 'game_date']) {
    const matches = (out: string) => {
      const list = JSON.parse(out) as unknown;
      if (!Array.isArray(list)) return undefined;
      const index = (list as Json[]).find((i) => {
        const fields = (i.fields as Json[] | undefined) ?? [];
        return (
          String(i.name ?? '').includes('/collectionGroups/batches/') &&
          i.queryScope === 'COLLECTION' &&
          fields[0]?.fieldPath === first &&
          fields[0]?.order === 'ASCENDING' &&
          fields[1]?.fieldPath === 'started_at' &&
          fields[1]?.order === 'DESCENDING'
        );
      });
      return index?.state as string | undefined;
    };
    const list = ['gcloud', 'firestore', 'indexes', 'composite', 'list', db, '--format=json', ...p];
    steps.push({
      title: `Firestore index batches(${first}, started_at desc), built`,
      check: { argv: list, found: (out) => matches(out) === 'READY' },
      // Without --async the command waits for the operation, i.e. the index build
      // (https://cloud.google.com/sdk/gcloud/reference/firestore/indexes/composite/create); a re-run finds it building and waits below.
      run: [
        'gcloud',
        'firestore',
        'indexes',
        'composite',
        'create',
        db,
        '--collection-group=batches',
        '--query-scope=COLLECTION',
        `--field-config=field-path=${first},order=ascending`,
        '--field-config=field-path=started_at,order=descending',
        ...p,
      ],
      alreadyDone: 'ALREADY_EXISTS',
      waitUntil: {
        argv: list,
        done: (out) => matches(out) === 'READY',
        what: `index batches(${first}, started_at) to be READY`,
        timeoutMs: 20 * 60_000,
        intervalMs: 15_000,
      },
    });
  }
  // One-off events (alerts sent, stalls, triggers taken) carry `expires_at`; a TTL policy deletes them
  // (https://cloud.google.com/firestore/docs/ttl). Without --async the command waits for the policy to be set up.
  const ttls = ['gcloud', 'firestore', 'fields', 'ttls', 'list', db, '--format=json', ...p];
  const eventsTtl = (out: string) => {
    const list = JSON.parse(out) as unknown;
    if (!Array.isArray(list)) return undefined;
    const field = (list as Json[]).find((f) => /\/collectionGroups\/events\/fields\/expires_at$/.test(String(f.name ?? '')));
    return (field?.ttlConfig as Json | undefined)?.state as string | undefined;
  };
  steps.push({
    title: 'Firestore TTL policy on events.expires_at',
    check: { argv: ttls, found: (out) => ['ACTIVE', 'CREATING'].includes(eventsTtl(out) ?? '') },
    run: ['gcloud', 'firestore', 'fields', 'ttls', 'update', 'expires_at', '--collection-group=events', '--enable-ttl', db, ...p],
  });
  return steps;
}

function pubsubSteps(d: Deployment, o: SetupOptions, p: string[]): Step[] {
  const steps: Step[] = [];
  const pushed = d.topics.filter((t) => t.push);
  // Every topic first: a subscription names its dead-letter topic, which is itself one of them (pushed to /dead-letter).
  for (const topic of d.topics.map((t) => t.name)) {
    steps.push({
      title: `topic ${topic}`,
      check: { argv: ['gcloud', 'pubsub', 'topics', 'describe', topic, ...p] },
      run: ['gcloud', 'pubsub', 'topics', 'create', topic, ...p],
    });
  }
  for (const topic of pushed) {
    const push = topic.push;
    if (!push) continue;
    const target = d.services[push.to];
    const name = pushSubscriptionName(topic.name);
    const endpoint = `${target.url}${push.path}`;
    const settings = [
      `--push-endpoint=${endpoint}`,
      `--push-auth-service-account=${d.accounts.pusher.email}`,
      // The audience is the service URL (what PUSH_AUTH_AUDIENCE and Cloud Run's IAM check expect), not the endpoint.
      `--push-auth-token-audience=${target.url}`,
      `--ack-deadline=${push.ackDeadlineSeconds}`,
      ...(push.deadLetterTopic ? [`--dead-letter-topic=${push.deadLetterTopic}`, `--max-delivery-attempts=${o.maxDeliveryAttempts}`] : []),
      '--min-retry-delay=10s',
      '--max-retry-delay=600s',
      ...p,
    ];
    const wanted = {
      'pushConfig.pushEndpoint': endpoint,
      'pushConfig.oidcToken.serviceAccountEmail': d.accounts.pusher.email,
      'pushConfig.oidcToken.audience': target.url,
      ackDeadlineSeconds: push.ackDeadlineSeconds,
      ...(push.deadLetterTopic
        ? {
            'deadLetterPolicy.deadLetterTopic': `projects/${o.projectId}/topics/${push.deadLetterTopic}`,
            'deadLetterPolicy.maxDeliveryAttempts': o.maxDeliveryAttempts,
          }
        : {}),
      'retryPolicy.minimumBackoff': '10s',
      'retryPolicy.maximumBackoff': '600s',
    };
    // `subscriptions update` changes push config, deadline, dead-lettering and retry in place; the topic cannot change
    // (https://cloud.google.com/sdk/gcloud/reference/pubsub/subscriptions/update).
    const update = ['gcloud', 'pubsub', 'subscriptions', 'update', name, ...settings];
    steps.push({
      title: `push subscription ${name} → ${endpoint}`,
      check: { argv: ['gcloud', 'pubsub', 'subscriptions', 'describe', name, '--format=json', ...p] },
      run: ['gcloud', 'pubsub', 'subscriptions', 'create', name, `--topic=${topic.name}`, ...settings],
      converge: (found) => {
        const current = parseJson(found, `subscription ${name}`);
        const wantTopic = `projects/${o.projectId}/topics/${topic.name}`;
        if (current.topic !== wantTopic) {
          return {
            kind: 'refuse',
            message: `subscription ${name} is attached to ${String(current.topic)}, the plan wants ${wantTopic}; a subscription cannot change topic: delete it (gcloud pubsub subscriptions delete ${name} --project ${o.projectId}) and re-run setup`,
          };
        }
        return compare(wanted, update, `subscription ${name}`)(found);
      },
      convergeNote: `compared with the plan and, where it differs, updated with: ${shellLine(update)}`,
    });
    if (push.deadLetterTopic) {
      steps.push({
        title: `pull subscription ${deadLetterSubscription(topic.name)} (a copy of each dead letter, kept 7 days for inspection)`,
        check: { argv: ['gcloud', 'pubsub', 'subscriptions', 'describe', deadLetterSubscription(topic.name), ...p] },
        run: [
          'gcloud',
          'pubsub',
          'subscriptions',
          'create',
          deadLetterSubscription(topic.name),
          `--topic=${push.deadLetterTopic}`,
          '--message-retention-duration=7d',
          '--ack-deadline=60',
          ...p,
        ],
      });
    }
  }
  return steps;
}

function schedulerStep(d: Deployment, o: SetupOptions, job: Deployment['schedules'][number], p: string[]): Step {
  const target = d.services[job.to];
  const timeZone = job.timeZone ?? 'America/New_York';
  const settings = [
    `--location=${o.region}`,
    `--schedule=${job.schedule}`,
    `--time-zone=${timeZone}`,
    `--uri=${target.url}${job.path}`,
    '--http-method=POST',
    `--message-body=${job.body}`,
    `--oidc-service-account-email=${d.accounts.scheduler.email}`,
    `--oidc-token-audience=${target.url}`,
    `--attempt-deadline=${job.attemptDeadline}`,
    '--max-retry-attempts=2',
    '--min-backoff=60s',
    ...p,
  ];
  const wanted = {
    schedule: job.schedule,
    timeZone,
    'httpTarget.uri': `${target.url}${job.path}`,
    'httpTarget.httpMethod': 'POST',
    'httpTarget.body': Buffer.from(job.body).toString('base64'),
    'httpTarget.headers.Content-Type': 'application/json',
    'httpTarget.oidcToken.serviceAccountEmail': d.accounts.scheduler.email,
    'httpTarget.oidcToken.audience': target.url,
    attemptDeadline: job.attemptDeadline,
    'retryConfig.retryCount': 2,
    'retryConfig.minBackoffDuration': '60s',
  };
  // https://cloud.google.com/sdk/gcloud/reference/scheduler/jobs/update/http
  const update = ['gcloud', 'scheduler', 'jobs', 'update', 'http', job.name, ...settings, '--update-headers=Content-Type=application/json'];
  return {
    title: `scheduler job ${job.name} (${job.schedule} ${timeZone} → POST ${target.name}${job.path})`,
    check: { argv: ['gcloud', 'scheduler', 'jobs', 'describe', job.name, `--location=${o.region}`, '--format=json', ...p] },
    run: ['gcloud', 'scheduler', 'jobs', 'create', 'http', job.name, ...settings, '--headers=Content-Type=application/json'],
    converge: compare(wanted, update, `Scheduler job ${job.name}`),
    convergeNote: `compared with the plan and, where it differs, updated with: ${shellLine(update)}`,
  };
}

/**
 * Project-level roles the deployment's accounts hold beyond the plan (an earlier setup's project-wide grants, or a role
 * moved to a narrower resource) are removed, so a re-run converges on the plan's grants.
 */
function projectRoleReconcile(d: Deployment, grants: readonly Grant[]): Step {
  const members = new Set(Object.values(d.accounts).map((a) => `serviceAccount:${a.email}`));
  const wanted = new Set(
    grants.filter((g) => g.resource.kind === 'project').map((g) => `${g.member} ${g.role} ${g.condition?.expression ?? ''}`),
  );
  const accountsList = (Object.keys(d.accounts) as Account[]).map((a) => d.accounts[a].id).join(', ');
  return {
    title: `no project role for ${accountsList} beyond the plan's`,
    check: { argv: ['gcloud', 'projects', 'get-iam-policy', d.projectId, '--format=json'] },
    converge: (found) => {
      const policy = parseJson(found, `the IAM policy of ${d.projectId}`);
      const bindings =
        (policy.bindings as Array<{ role?: string; members?: string[]; condition?: { expression?: string } }> | undefined) ?? [];
      const extra = new Map<string, string[]>();
      for (const b of bindings) {
        for (const member of b.members ?? []) {
          if (!members.has(member) || !b.role) continue;
          if (wanted.has(`${member} ${b.role} ${b.condition?.expression ?? ''}`)) continue;
          extra.set(`${member} ${b.role}`, [member, b.role]);
        }
      }
      if (extra.size === 0) return { kind: 'in_place' };
      const commands: string[][] = [];
      const differencesList: string[] = [];
      for (const [member, role] of extra.values()) {
        differencesList.push(`${member} holds ${role} on the project`);
        // --all removes the role whatever its condition; a wanted conditional binding of the same role is re-added.
        commands.push([
          'gcloud',
          'projects',
          'remove-iam-policy-binding',
          d.projectId,
          `--member=${member}`,
          `--role=${role}`,
          '--all',
          '--quiet',
        ]);
        for (const g of grants.filter((x) => x.resource.kind === 'project' && x.member === member && x.role === role))
          commands.push(grantCommand(g, d, ''));
      }
      return { kind: 'update', differences: differencesList, commands };
    },
    convergeNote: 'any project role of these accounts not granted above is removed (gcloud projects remove-iam-policy-binding … --all)',
  };
}

/** The deployment's grants, for `setup-gcp --grants` and docs/security.md. */
export function setupGrants(o: SetupOptions, describe: (o: SetupOptions) => Deployment = deployment): Grant[] {
  return deploymentGrants(describe(o));
}
