/**
 * The Google Cloud setup plan, run against stand-in `gcloud` and `bq` executables (test/helpers/fake-cloud.ts) that record
 * their arguments and answer reads with resources in the shapes Google returns them (`--format=json`). Checks that a first
 * run creates everything, a re-run converges (updates what differs, refuses what it must not touch, waits for what Google
 * builds, retries what IAM has not propagated, removes stale project roles) and --dry-run runs nothing.
 */
import { describe, expect, it } from 'vitest';
import { buildSetupPlan, type SetupOptions } from '../../bin/setup/plan.js';
import { runPlan, shellLine, type RunOptions } from '../../bin/setup/run-plan.js';
import { parseSetupArgs } from '../../bin/setup/args.js';
import { renderBigQueryDdl } from '../../shared/adapters/bigquery/bigquery-ddl.js';
import { PRODUCT_TABLES } from '../../shared/contracts/tables.js';
import { fakeCloud, type FakeCloud } from '../helpers/fake-cloud.js';

const P = 'nba-props';
const COORD = 'https://prediction-coordinator-prod-123456.us-west2.run.app';
const WORKER = 'https://prediction-worker-prod-123456.us-west2.run.app';
const sa = (id: string) => `${id}@${P}.iam.gserviceaccount.com`;

const options: SetupOptions = {
  projectId: P,
  projectNumber: '123456',
  region: 'us-west2',
  location: 'US',
  suffix: '-prod',
  coordinatorUrl: COORD,
  workerUrl: WORKER,
  ddl: renderBigQueryDdl(PRODUCT_TABLES, { projectId: P, location: 'US' }),
  modelBucket: 'nba-props-nba-models',
  buildBucket: 'nba-props-nba-build',
  firestoreDatabase: '(default)',
  startSchedule: '0 10 * * *',
  maxDeliveryAttempts: 5,
};

const plan = buildSetupPlan(options);
const lines = plan.flatMap((s) => (s.run ? [shellLine(s.run)] : []));

/** A push subscription as `gcloud pubsub subscriptions describe --format=json` shows it. */
const subscription = (name: string, topic: string, endpoint: string, audience: string, ack: number, deadLettered = true) => ({
  name: `projects/${P}/subscriptions/${name}`,
  topic: `projects/${P}/topics/${topic}`,
  pushConfig: { pushEndpoint: endpoint, oidcToken: { serviceAccountEmail: sa('prediction-pubsub-push'), audience } },
  ackDeadlineSeconds: ack,
  ...(deadLettered ? { deadLetterPolicy: { deadLetterTopic: `projects/${P}/topics/${topic}-dlq`, maxDeliveryAttempts: 5 } } : {}),
  retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' },
  messageRetentionDuration: '604800s',
  state: 'ACTIVE',
});

/** A Scheduler HTTP job as `gcloud scheduler jobs describe --format=json` shows it. */
const job = (name: string, schedule: string, path: string, body: string, deadline: string) => ({
  name: `projects/${P}/locations/us-west2/jobs/${name}`,
  schedule,
  timeZone: 'America/New_York',
  httpTarget: {
    uri: `${COORD}${path}`,
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'Google-Cloud-Scheduler' },
    body: Buffer.from(body).toString('base64'),
    oidcToken: { serviceAccountEmail: sa('prediction-scheduler'), audience: COORD },
  },
  attemptDeadline: deadline,
  retryConfig: { retryCount: 2, minBackoffDuration: '60s', maxBackoffDuration: '3600s', maxDoublings: 5, maxRetryDuration: '0s' },
  state: 'ENABLED',
});

const index = (first: string, state: string) => ({
  name: `projects/${P}/databases/(default)/collectionGroups/batches/indexes/CICAg${first}`,
  queryScope: 'COLLECTION',
  fields: [
    { fieldPath: first, order: 'ASCENDING' },
    { fieldPath: 'started_at', order: 'DESCENDING' },
    { fieldPath: '__name__', order: 'DESCENDING' },
  ],
  state,
});

/** The project IAM policy after a setup: only the project-level roles the plan gives its accounts. */
const policy = (extra: Array<{ role: string; members: string[]; condition?: { expression: string; title: string } }> = []) => ({
  bindings: [
    {
      role: 'roles/bigquery.jobUser',
      members: [`serviceAccount:${sa('prediction-coordinator')}`, `serviceAccount:${sa('prediction-worker')}`],
    },
    {
      role: 'roles/datastore.user',
      members: [`serviceAccount:${sa('prediction-coordinator')}`],
      condition: { expression: `resource.name=="projects/${P}/databases/(default)"`, title: 'firestore-default-only' },
    },
    {
      role: 'roles/datastore.viewer',
      members: [`serviceAccount:${sa('prediction-worker')}`],
      condition: { expression: `resource.name=="projects/${P}/databases/(default)"`, title: 'firestore-default-read-only' },
    },
    { role: 'roles/logging.logWriter', members: [`serviceAccount:${sa('prediction-build')}`] },
    { role: 'roles/owner', members: ['user:owner@example.com'] },
    ...extra,
  ],
  etag: 'BwX1',
});

/** Everything setup makes, as Google would describe it after a first run. */
function existingProject(): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const id of ['prediction-coordinator', 'prediction-worker', 'prediction-pubsub-push', 'prediction-scheduler', 'prediction-build'])
    r[`iam service-accounts describe ${sa(id)}`] = { email: sa(id) };
  r['artifacts repositories describe nba-predictions'] = { name: 'nba-predictions' };
  r['storage buckets describe gs://nba-props-nba-models'] = { name: 'nba-props-nba-models' };
  r['storage buckets describe gs://nba-props-nba-build'] = { name: 'nba-props-nba-build' };
  r['firestore databases describe --database=(default)'] = {
    name: `projects/${P}/databases/(default)`,
    locationId: 'nam5',
    type: 'FIRESTORE_NATIVE',
  };
  r['firestore indexes composite list --database=(default)'] = [index('state', 'READY'), index('game_date', 'READY')];
  r['firestore fields ttls list --database=(default)'] = [
    { name: `projects/${P}/databases/(default)/collectionGroups/events/fields/expires_at`, ttlConfig: { state: 'ACTIVE' } },
  ];
  r['secrets describe coordinator-api-key'] = { name: `projects/${P}/secrets/coordinator-api-key` };
  r['secrets describe slack-webhook-url'] = { name: `projects/${P}/secrets/slack-webhook-url` };
  const pushed = ['prediction-request-prod', 'prediction-ready-prod', 'prediction-consolidate-prod', 'nba-prediction-trigger'];
  for (const t of [...pushed, 'nba-phase5-predictions-complete', 'prediction-health-prod', ...pushed.map((p) => `${p}-dlq`)])
    r[`pubsub topics describe ${t}`] = { name: `projects/${P}/topics/${t}` };
  r['pubsub subscriptions describe prediction-request-prod-push'] = subscription(
    'prediction-request-prod-push',
    'prediction-request-prod',
    `${WORKER}/predict`,
    WORKER,
    60,
  );
  r['pubsub subscriptions describe prediction-ready-prod-push'] = subscription(
    'prediction-ready-prod-push',
    'prediction-ready-prod',
    `${COORD}/complete`,
    COORD,
    60,
  );
  r['pubsub subscriptions describe prediction-consolidate-prod-push'] = subscription(
    'prediction-consolidate-prod-push',
    'prediction-consolidate-prod',
    `${COORD}/consolidate`,
    COORD,
    600,
  );
  r['pubsub subscriptions describe nba-prediction-trigger-push'] = subscription(
    'nba-prediction-trigger-push',
    'nba-prediction-trigger',
    `${COORD}/regenerate-pubsub`,
    COORD,
    600,
  );
  for (const t of pushed) {
    r[`pubsub subscriptions describe ${t}-dlq-push`] = subscription(`${t}-dlq-push`, `${t}-dlq`, `${COORD}/dead-letter`, COORD, 60, false);
    r[`pubsub subscriptions describe ${t}-dlq-sub`] = { name: 'x' };
  }
  r['run services describe prediction-coordinator-prod'] = { metadata: { name: 'prediction-coordinator-prod' } };
  r['run services describe prediction-worker-prod'] = { metadata: { name: 'prediction-worker-prod' } };
  r[`projects get-iam-policy ${P}`] = policy();
  r['scheduler jobs describe prediction-start-prod'] = job(
    'prediction-start-prod',
    '0 10 * * *',
    '/start',
    '{"game_date":"TODAY"}',
    '180s',
  );
  r['scheduler jobs describe prediction-check-stalled-prod'] = job(
    'prediction-check-stalled-prod',
    '*/5 * * * *',
    '/check-stalled',
    '{}',
    '600s',
  );
  r['scheduler jobs describe prediction-check-lines-prod'] = job(
    'prediction-check-lines-prod',
    '0 11-23 * * *',
    '/check-lines',
    '{"game_date":"TODAY","line_change_threshold":1.0}',
    '180s',
  );
  r['scheduler jobs describe prediction-morning-summary-prod'] = job(
    'prediction-morning-summary-prod',
    '30 8 * * *',
    '/morning-summary',
    '{"game_date":"TODAY"}',
    '60s',
  );
  r['scheduler jobs describe prediction-check-signal-prod'] = job(
    'prediction-check-signal-prod',
    '0 12 * * *',
    '/check-signal',
    '{"game_date":"TODAY","send_alert":true}',
    '60s',
  );
  return r;
}

/** Runs against the fake, with a virtual clock that sleeping advances: a wait that never ends times out at once. */
const quiet = (cloud: FakeCloud, extra: Partial<RunOptions> = {}): RunOptions => {
  let clock = 0;
  return { dryRun: false, out: () => undefined, exec: cloud.exec, now: () => clock, sleep: async (ms) => void (clock += ms), ...extra };
};
const creates = (calls: string[]) => calls.filter((c) => / (create|deploy) /.test(c));
const updates = (calls: string[]) => calls.filter((c) => / update /.test(c) || c.includes('remove-iam-policy-binding'));

describe('setup plan: what it makes', () => {
  it('creates the push subscriptions with OIDC for the service URL as audience, ack deadlines and dead-lettering', () => {
    const create = lines.filter((l) => l.includes('pubsub subscriptions create') && l.includes('push-endpoint'));
    // request, ready, consolidate and the regeneration trigger, and each one's dead-letter topic pushed to /dead-letter.
    expect(create).toHaveLength(8);
    const request = create.find((l) => l.includes('prediction-request-prod-push'));
    expect(request).toContain(`--push-endpoint=${WORKER}/predict`);
    expect(request).toContain(`--push-auth-token-audience=${WORKER} `);
    expect(request).toContain(`--push-auth-service-account=${sa('prediction-pubsub-push')}`);
    expect(request).toContain('--dead-letter-topic=prediction-request-prod-dlq');
    expect(request).toContain('--max-delivery-attempts=5');
    const ready = create.find((l) => l.includes('prediction-ready-prod-push'));
    expect(ready).toContain(`--push-endpoint=${COORD}/complete`);
    expect(ready).toContain('--ack-deadline=60');
    const consolidate = create.find((l) => l.includes('prediction-consolidate-prod-push'));
    expect(consolidate).toContain(`--push-endpoint=${COORD}/consolidate`);
    expect(consolidate).toContain('--ack-deadline=600');
    for (const topic of ['prediction-request-prod', 'prediction-ready-prod', 'prediction-consolidate-prod']) {
      const dead = create.find((l) => l.includes(`${topic}-dlq-push`));
      expect(dead).toContain(`--topic=${topic}-dlq`);
      expect(dead).toContain(`--push-endpoint=${COORD}/dead-letter`);
      expect(dead).not.toContain('--dead-letter-topic');
    }
  });

  it('schedules the daily /start and /check-stalled every five minutes (then the day’s other jobs) with OIDC to the coordinator', () => {
    const jobs = lines.filter((l) => l.includes('scheduler jobs create http'));
    expect(jobs).toHaveLength(5);
    expect(jobs[0]).toContain("'--schedule=0 10 * * *'");
    expect(jobs[0]).toContain(`--uri=${COORD}/start`);
    expect(jobs[1]).toContain("'--schedule=*/5 * * * *'");
    expect(jobs[1]).toContain('/check-stalled');
    for (const j of jobs) expect(j).toContain(`--oidc-token-audience=${COORD}`);
  });

  it('creates the product datasets and tables through bq in the data location, staging partitioned by write time with an expiry', () => {
    const ddl = plan.filter((s) => s.run?.[0] === 'bq' && !s.run.at(-1)?.startsWith('GRANT')).map((s) => s.run ?? []);
    for (const argv of ddl) expect(argv).toContain('--location=US');
    const sql = ddl.map((argv) => argv.at(-1) ?? '');
    expect(sql.filter((x) => x.startsWith('CREATE TABLE IF NOT EXISTS'))).toHaveLength(PRODUCT_TABLES.length);
    const staging = sql.find((x) => x.includes('`nba-props.nba_predictions.prediction_staging`')) ?? '';
    expect(staging).toMatch(/PARTITION BY DATE\(`created_at`\)/);
    expect(staging).toMatch(/partition_expiration_days\s*=\s*7/);
  });

  it('puts Firestore and the buckets in the location that goes with the BigQuery location', () => {
    expect(lines.find((l) => l.includes('firestore databases create'))).toContain('--location=nam5');
    const eu = buildSetupPlan({ ...options, location: 'EU' }).flatMap((s) => (s.run ? [shellLine(s.run)] : []));
    expect(eu.find((l) => l.includes('firestore databases create'))).toContain('--location=eur3');
    expect(eu.filter((l) => l.includes('storage buckets create')).every((l) => l.includes('--location=EU'))).toBe(true);
    const regional = buildSetupPlan({ ...options, location: 'europe-west2' }).flatMap((s) => (s.run ? [shellLine(s.run)] : []));
    expect(regional.find((l) => l.includes('firestore databases create'))).toContain('--location=europe-west2');
    expect(() => buildSetupPlan({ ...options, location: 'mars-north1' })).toThrow(/not a supported data location/);
  });

  it('creates the build account and the two Cloud Run services before granting anything on them', () => {
    const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
    expect(at(`service-accounts create prediction-build`)).toBeGreaterThan(-1);
    expect(at('run deploy prediction-worker-prod')).toBeLessThan(at('run services add-iam-policy-binding prediction-worker-prod'));
    expect(lines.find((l) => l.includes('run deploy prediction-worker-prod'))).toContain('--no-allow-unauthenticated');
  });
});

describe('setup plan: running it', () => {
  it('--dry-run prints every command and runs none', async () => {
    const cloud = fakeCloud({ resources: {} });
    const out: string[] = [];
    const summary = await runPlan(plan, quiet(cloud, { dryRun: true, out: (l) => out.push(l) }));
    expect(cloud.calls()).toEqual([]);
    expect(summary.planned).toBe(plan.length);
    for (const l of lines) expect(out).toContain(l);
  });

  it('on a new project creates everything, in order, and waits for nothing it already built', async () => {
    // Nothing exists; the index list is empty until the creates (which block until built) have run.
    const fresh = fakeCloud({
      resources: {
        'firestore indexes composite list --database=(default)': [
          [],
          [index('state', 'READY')],
          [index('state', 'READY')],
          [index('state', 'READY'), index('game_date', 'READY')],
        ],
        [`projects get-iam-policy ${P}`]: policy(),
      },
      sequences: ['firestore indexes composite list --database=(default)'],
    });
    const summary = await runPlan(plan, quiet(fresh));
    expect(summary.updated).toBe(0);
    const made = creates(fresh.calls());
    expect(made.filter((c) => c.includes('service-accounts create'))).toHaveLength(5);
    // request, ready, consolidate, trigger; their dead-letter topics pushed to /dead-letter; a pull copy of each dead letter
    expect(made.filter((c) => c.includes('subscriptions create'))).toHaveLength(12);
    expect(made.filter((c) => c.includes('scheduler jobs create'))).toHaveLength(5);
    expect(
      fresh.calls().filter((c) => c.includes('firestore fields ttls update expires_at --collection-group=events --enable-ttl')),
    ).toHaveLength(1);
    expect(made.filter((c) => c.includes('run deploy'))).toHaveLength(2);
    expect(made.filter((c) => c.includes('indexes composite create'))).toHaveLength(2);
    expect(summary.created).toBe(plan.filter((s) => s.run).length);
  });

  it('re-run on a project that matches the plan creates and updates nothing', async () => {
    const cloud = fakeCloud({ resources: existingProject() });
    const summary = await runPlan(plan, quiet(cloud));
    expect(creates(cloud.calls())).toEqual([]);
    expect(updates(cloud.calls())).toEqual([]);
    expect(summary).toMatchObject({ created: expect.any(Number), updated: 0, skipped: plan.filter((s) => s.check).length });
  });

  it('re-run after the schedule and the target changed updates the Scheduler jobs to the plan, and only them', async () => {
    const resources = existingProject();
    resources['scheduler jobs describe prediction-start-prod'] = job(
      'prediction-start-prod',
      '0 9 * * *',
      '/start',
      '{"game_date":"TODAY"}',
      '180s',
    );
    const moved = job('prediction-check-stalled-prod', '*/5 * * * *', '/check-stalled', '{}', '600s');
    moved.httpTarget.uri = 'https://prediction-coordinator-old.a.run.app/check-stalled';
    resources['scheduler jobs describe prediction-check-stalled-prod'] = moved;
    const cloud = fakeCloud({ resources });
    const out: string[] = [];
    const summary = await runPlan(plan, quiet(cloud, { out: (l) => out.push(l) }));
    const changed = updates(cloud.calls());
    expect(changed).toHaveLength(2);
    expect(changed[0]).toMatch(/^gcloud scheduler jobs update http prediction-start-prod .*--schedule=0 10 \* \* \*/);
    expect(changed[1]).toMatch(
      new RegExp(`^gcloud scheduler jobs update http prediction-check-stalled-prod .*--uri=${COORD}/check-stalled`),
    );
    expect(out).toContain('  differs: schedule: "0 9 * * *" → "0 10 * * *"');
    expect(summary.updated).toBe(2);
    expect(creates(cloud.calls())).toEqual([]);
  });

  it('re-run over an earlier setup’s push subscription (audience = endpoint, 10 s deadline) updates it to the plan', async () => {
    const resources = existingProject();
    resources['pubsub subscriptions describe prediction-request-prod-push'] = subscription(
      'prediction-request-prod-push',
      'prediction-request-prod',
      `${WORKER}/predict`,
      `${WORKER}/predict`,
      10,
    );
    const cloud = fakeCloud({ resources });
    await runPlan(plan, quiet(cloud));
    const changed = updates(cloud.calls());
    expect(changed).toHaveLength(1);
    expect(changed[0]).toContain('pubsub subscriptions update prediction-request-prod-push');
    expect(changed[0]).toContain(`--push-auth-token-audience=${WORKER} `);
    expect(changed[0]).toContain('--ack-deadline=60');
  });

  it('refuses a push subscription attached to another topic, saying how to fix it, and runs nothing after it', async () => {
    const resources = existingProject();
    resources['pubsub subscriptions describe prediction-ready-prod-push'] = subscription(
      'prediction-ready-prod-push',
      'prediction-ready',
      `${COORD}/complete`,
      COORD,
      600,
    );
    const cloud = fakeCloud({ resources });
    await expect(runPlan(plan, quiet(cloud))).rejects.toThrow(
      /prediction-ready-prod-push is attached to projects\/nba-props\/topics\/prediction-ready, the plan wants .*delete it \(gcloud pubsub subscriptions delete prediction-ready-prod-push/,
    );
    expect(cloud.calls().some((c) => c.includes('scheduler jobs'))).toBe(false);
  });

  it('refuses a Firestore database in Datastore mode with what to do, before touching anything that depends on it', async () => {
    const resources = existingProject();
    resources['firestore databases describe --database=(default)'] = {
      name: `projects/${P}/databases/(default)`,
      locationId: 'nam5',
      type: 'DATASTORE_MODE',
    };
    const cloud = fakeCloud({ resources });
    const run = runPlan(plan, quiet(cloud));
    await expect(run).rejects.toThrow(
      /Firestore database \(default\) of nba-props is in DATASTORE_MODE, and the batch store needs Native mode/,
    );
    await expect(runPlan(plan, quiet(fakeCloud({ resources })))).rejects.toThrow(
      /gcloud firestore databases update --database=\(default\) --type=firestore-native --project nba-props.*--firestore-database=batches.*_FIRESTORE_DATABASE=batches/,
    );
    expect(cloud.calls().some((c) => c.includes('indexes composite'))).toBe(false);
  });

  it('waits for an index Google is still building, and gives up with a message when it never finishes', async () => {
    const resources = existingProject();
    resources['firestore indexes composite list --database=(default)'] = [
      [index('state', 'CREATING'), index('game_date', 'READY')],
      [index('state', 'CREATING'), index('game_date', 'READY')],
      [index('state', 'READY'), index('game_date', 'READY')],
    ];
    const cloud = fakeCloud({
      resources,
      sequences: ['firestore indexes composite list --database=(default)'],
      failures: [
        {
          match: 'indexes composite create',
          times: 2,
          output: 'ERROR: (gcloud.firestore.indexes.composite.create) ALREADY_EXISTS: index already exists',
        },
      ],
    });
    const slept: number[] = [];
    const out: string[] = [];
    await runPlan(plan, quiet(cloud, { sleep: async (ms) => void slept.push(ms), out: (l) => out.push(l) }));
    expect(out.some((l) => l.startsWith('  waiting for index batches(state, started_at) to be READY'))).toBe(true);
    expect(slept.length).toBeGreaterThan(0);

    let clock = 0;
    const stuck = existingProject();
    stuck['firestore indexes composite list --database=(default)'] = [index('state', 'CREATING'), index('game_date', 'READY')];
    const never = fakeCloud({ resources: stuck, failures: [{ match: 'indexes composite create', times: 5, output: 'ALREADY_EXISTS' }] });
    await expect(runPlan(plan, quiet(never, { now: () => clock, sleep: async (ms) => void (clock += ms) }))).rejects.toThrow(
      /timed out after 20 min waiting for index batches\(state, started_at\) to be READY; re-run setup to keep waiting/,
    );
  });

  it('retries a grant IAM refuses while it propagates a new account, and gives up after about two minutes', async () => {
    const resources = existingProject();
    const notYet = `ERROR: (gcloud.pubsub.topics.add-iam-policy-binding) INVALID_ARGUMENT: Service account ${sa('prediction-worker')} does not exist.`;
    const cloud = fakeCloud({
      resources,
      failures: [{ match: 'topics add-iam-policy-binding prediction-ready-prod --member', times: 2, output: notYet }],
    });
    const slept: number[] = [];
    await runPlan(plan, quiet(cloud, { sleep: async (ms) => void slept.push(ms) }));
    expect(slept).toEqual([5_000, 10_000]);
    expect(cloud.calls().filter((c) => c.includes('topics add-iam-policy-binding prediction-ready-prod --member'))).toHaveLength(3);

    const forever = fakeCloud({
      resources,
      failures: [{ match: 'topics add-iam-policy-binding prediction-ready-prod --member', times: 99, output: notYet }],
    });
    const waited: number[] = [];
    await expect(runPlan(plan, quiet(forever, { sleep: async (ms) => void waited.push(ms) }))).rejects.toThrow(
      /publisher on topic prediction-ready-prod.* failed with exit 1: .*does not exist/,
    );
    expect(waited.reduce((a, b) => a + b, 0)).toBe(125_000);
  });

  it('does not retry a refusal that is not propagation (a missing permission fails at once)', async () => {
    const cloud = fakeCloud({
      resources: existingProject(),
      failures: [
        {
          match: 'secrets add-iam-policy-binding',
          times: 1,
          output: 'ERROR: PERMISSION_DENIED: Permission secretmanager.secrets.setIamPolicy denied',
        },
      ],
    });
    const slept: number[] = [];
    await expect(runPlan(plan, quiet(cloud, { sleep: async (ms) => void slept.push(ms) }))).rejects.toThrow(
      /step \d+ \(.*secret coordinator-api-key.*\) failed with exit 1: ERROR: PERMISSION_DENIED/,
    );
    expect(slept).toEqual([]);
  });

  it('removes the project-wide roles an earlier setup gave its accounts, and keeps the plan’s own', async () => {
    const resources = existingProject();
    resources[`projects get-iam-policy ${P}`] = policy([
      {
        role: 'roles/bigquery.dataEditor',
        members: [`serviceAccount:${sa('prediction-coordinator')}`, `serviceAccount:${sa('prediction-worker')}`],
      },
      {
        role: 'roles/run.invoker',
        members: [`serviceAccount:${sa('prediction-pubsub-push')}`, `serviceAccount:${sa('prediction-scheduler')}`],
      },
      { role: 'roles/logging.logWriter', members: [`serviceAccount:${sa('prediction-worker')}`, 'user:someone@example.com'] },
      { role: 'roles/datastore.user', members: [`serviceAccount:${sa('prediction-coordinator')}`] },
    ]);
    const cloud = fakeCloud({ resources });
    await runPlan(plan, quiet(cloud));
    const removed = cloud.calls().filter((c) => c.includes('remove-iam-policy-binding'));
    const who = removed.map((c) => `${/--member=serviceAccount:([^@]+)/.exec(c)?.[1]} ${/--role=(\S+)/.exec(c)?.[1]}`);
    expect(who.sort()).toEqual(
      [
        'prediction-coordinator roles/bigquery.dataEditor',
        'prediction-worker roles/bigquery.dataEditor',
        'prediction-pubsub-push roles/run.invoker',
        'prediction-scheduler roles/run.invoker',
        'prediction-worker roles/logging.logWriter',
        'prediction-coordinator roles/datastore.user',
      ].sort(),
    );
    // The unconditional datastore.user went with --all; the conditional one is granted again right after.
    const calls = cloud.calls();
    const removal = calls.findIndex((c) => c.includes('remove-iam-policy-binding') && c.includes('roles/datastore.user'));
    expect(calls[removal + 1]).toMatch(
      /add-iam-policy-binding nba-props .*roles\/datastore\.user --condition=expression=resource\.name=="projects\/nba-props\/databases\/\(default\)"/,
    );
    expect(removed.some((c) => c.includes('someone@example.com') || c.includes('owner'))).toBe(false);
  });

  it('names the failing step, and for an upstream table says it must exist (or --with-source-tables)', async () => {
    const cloud = fakeCloud({
      resources: existingProject(),
      failures: [
        {
          match: 'nba_raw.nbac_schedule',
          times: 1,
          output: 'BigQuery error in query operation: Not found: Table nba-props:nba_raw.nbac_schedule was not found in location US',
        },
      ],
    });
    await expect(runPlan(plan, quiet(cloud))).rejects.toThrow(
      /setup step \d+ \(.*nba_raw\.nbac_schedule.*\) failed with exit 1: .*Not found: Table .* — nba-props\.nba_raw\.nbac_schedule belongs to the upstream phases .*--with-source-tables/,
    );
  });
});

describe('setup plan: the real executor', () => {
  it('runs the commands as processes, treats an "already exists" answer as in place, and stops at a failure naming the step', async () => {
    const steps = [
      {
        title: 'an index that exists',
        run: ['sh', '-c', 'echo "ERROR: (gcloud) ALREADY_EXISTS: index already exists" >&2; exit 1'],
        alreadyDone: 'ALREADY_EXISTS',
      },
      { title: 'a step that fails', run: ['sh', '-c', 'echo boom >&2; exit 3'] },
      { title: 'never runs', run: ['sh', '-c', 'touch /never'] },
    ];
    const out: string[] = [];
    await expect(runPlan(steps, { dryRun: false, out: (l) => out.push(l) })).rejects.toThrow(
      /setup step 2 \(a step that fails\) failed with exit 3: boom/,
    );
    expect(out).toContain('  already in place');
    expect(out.some((l) => l.includes('never runs'))).toBe(false);
  });
});

describe('setup-gcp arguments', () => {
  const base = ['--project', P, '--region', 'us-west2'];
  it('takes a suffix that starts with a dash, written either way (node’s parseArgs alone calls it ambiguous)', () => {
    expect(parseSetupArgs([...base, '--suffix', '-prod']).suffix).toBe('-prod');
    expect(parseSetupArgs([...base, '--suffix=-staging', '--dry-run'])).toMatchObject({ suffix: '-staging', 'dry-run': true });
    expect(parseSetupArgs([...base, '--suffix', '-prod', '--dry-run'])).toMatchObject({ suffix: '-prod', 'dry-run': true });
    expect(parseSetupArgs([...base]).suffix).toBe('-prod');
    expect(parseSetupArgs([...base, '--suffix', '']).suffix).toBe('');
  });

  it('still refuses an option where a value belongs, and unknown options', () => {
    expect(() => parseSetupArgs([...base, '--suffix', '--dry-run'])).toThrow(/--suffix/);
    expect(() => parseSetupArgs([...base, '--sufix', '-prod'])).toThrow(/sufix/);
  });
});
