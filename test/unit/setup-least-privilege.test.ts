/**
 * Least privilege, checked on the rendered setup plan: every IAM grant is read back out of the commands the plan would run
 * (gcloud add-iam-policy-binding forms and BigQuery GRANT statements), whatever produced them, and held to rules written
 * here independently of bin/setup/grants.ts. Because the rules run over the rendered commands, a topic, push subscription,
 * Scheduler job or secret added to the deployment later is covered without touching this file — the last tests add the
 * ones planned next (prediction-consolidate, nba-prediction-trigger, hourly jobs, a Slack webhook secret) and check them.
 * BigQuery grants are compared with the tables each service's own SQL touches (its import graph from main.ts).
 */
import { describe, expect, it } from 'vitest';
import { buildSetupPlan, type SetupOptions } from '../../bin/setup/plan.js';
import { deployment, type Deployment } from '../../bin/setup/topology.js';
import type { Step } from '../../bin/setup/run-plan.js';
import { renderBigQueryDdl } from '../../shared/adapters/bigquery/bigquery-ddl.js';
import { ALL_TABLES } from '../../shared/contracts/tables.js';
import { importGraph, serviceEntry, tablesUsed } from '../helpers/import-graph.js';

const P = 'nba-props';
const COORD = 'https://prediction-coordinator-prod-123456.us-west2.run.app';
const WORKER = 'https://prediction-worker-prod-123456.us-west2.run.app';
const account = (id: string) => `serviceAccount:${id}@${P}.iam.gserviceaccount.com`;
const RUNTIME = {
  coordinator: account('prediction-coordinator'),
  worker: account('prediction-worker'),
  pusher: account('prediction-pubsub-push'),
  scheduler: account('prediction-scheduler'),
};
const BUILD = account('prediction-build');
const PUBSUB_AGENT = 'serviceAccount:service-123456@gcp-sa-pubsub.iam.gserviceaccount.com';
const SERVICE_OF_URL: Record<string, string> = { [COORD]: 'prediction-coordinator-prod', [WORKER]: 'prediction-worker-prod' };

const options: SetupOptions = {
  projectId: P,
  projectNumber: '123456',
  region: 'us-west2',
  location: 'US',
  suffix: '-prod',
  coordinatorUrl: COORD,
  workerUrl: WORKER,
  ddl: renderBigQueryDdl(ALL_TABLES, { projectId: P, location: 'US' }),
  modelBucket: 'nba-props-nba-models',
  buildBucket: 'nba-props-nba-build',
  firestoreDatabase: '(default)',
  startSchedule: '0 10 * * *',
  maxDeliveryAttempts: 5,
};

interface Binding {
  member: string;
  role: string;
  scope: string;
  resource: string;
  condition: string | undefined;
}

const flag = (argv: readonly string[], name: string) => argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);

const SCOPES: Record<string, string> = {
  projects: 'project',
  'pubsub topics': 'topic',
  'pubsub subscriptions': 'subscription',
  'run services': 'service',
  secrets: 'secret',
  'storage buckets': 'bucket',
  'iam service-accounts': 'serviceAccount',
  'artifacts repositories': 'repository',
};

/** The grants a command makes, read from the command alone. */
function bindingsOf(argv: readonly string[]): Binding[] {
  if (argv[0] === 'gcloud') {
    const at = argv.indexOf('add-iam-policy-binding');
    if (at < 0) return [];
    const group = argv.slice(1, at).join(' ');
    const condition = flag(argv, '--condition');
    return [
      {
        member: flag(argv, '--member') ?? '',
        role: flag(argv, '--role') ?? '',
        scope: SCOPES[group] ?? `unknown (${group})`,
        resource: argv[at + 1] ?? '',
        condition: condition === 'None' ? undefined : condition,
      },
    ];
  }
  if (argv[0] === 'bq') {
    const sql = argv.at(-1) ?? '';
    const m = /^\s*GRANT\s+`([^`]+)`\s+ON\s+(TABLE|SCHEMA|VIEW|EXTERNAL TABLE)\s+`([^`]+)`\s+TO\s+(.+)$/is.exec(sql);
    if (!m)
      return /\bGRANT\b/i.test(sql)
        ? [{ member: '?', role: '?', scope: `unparsed GRANT: ${sql}`, resource: '', condition: undefined }]
        : [];
    return [...(m[4] as string).matchAll(/"([^"]+)"/g)].map((x) => ({
      member: x[1] as string,
      role: m[1] as string,
      scope: (m[2] as string).toUpperCase() === 'SCHEMA' ? 'dataset' : 'table',
      resource: m[3] as string,
      condition: undefined,
    }));
  }
  return [];
}

const commandsOf = (steps: readonly Step[]) => steps.flatMap((s) => (s.run ? [s.run] : []));
const bindingsIn = (steps: readonly Step[]) => commandsOf(steps).flatMap(bindingsOf);

/** What the plan creates, read from its create commands: topics, push subscriptions (with their endpoints), jobs, secrets, buckets. */
function created(steps: readonly Step[]) {
  const cmds = commandsOf(steps).filter((c) => c[0] === 'gcloud');
  const named = (group: string, verb = 'create') =>
    cmds.filter((c) => c.slice(1).join(' ').startsWith(`${group} ${verb} `)).map((c) => c[group.split(' ').length + 2] as string);
  const endpointService = (u: string) => SERVICE_OF_URL[Object.keys(SERVICE_OF_URL).find((base) => u.startsWith(`${base}/`)) ?? ''];
  return {
    topics: new Set(named('pubsub topics')),
    pushSubscriptions: cmds
      .filter((c) => c.slice(1, 4).join(' ') === 'pubsub subscriptions create' && flag(c, '--push-endpoint'))
      .map((c) => ({ name: c[4] as string, service: endpointService(flag(c, '--push-endpoint') ?? '') })),
    jobTargets: cmds
      .filter((c) => c.slice(1, 5).join(' ') === 'scheduler jobs create http')
      .map((c) => endpointService(flag(c, '--uri') ?? '')),
    secrets: new Set(named('secrets')),
    buckets: new Set(named('storage buckets').map((b) => b.replace(/^gs:\/\//, ''))),
  };
}

const DATA_ROLE =
  /^roles\/(bigquery\.data|bigquery\.admin|storage\.|pubsub\.|secretmanager\.|datastore\.|run\.|logging\.|iam\.|editor|owner|viewer)/;

/** Every way the plan's grants break the rules; [] when it keeps them. */
// eslint-disable-next-line complexity -- the least-privilege rules, one check each, gathered so a failing plan lists every violation at once
function violations(steps: readonly Step[], projectId = P): string[] {
  const out: string[] = [];
  const made = created(steps);
  const runtime = new Set(Object.values(RUNTIME));
  const known = new Set([...runtime, BUILD, PUBSUB_AGENT]);
  for (const b of bindingsIn(steps)) {
    const who = `${b.member} ${b.role} on ${b.scope} ${b.resource}`;
    if (!known.has(b.member)) out.push(`grant to an account the plan does not own: ${who}`);
    if (/^roles\/(owner|editor|viewer)$/.test(b.role)) out.push(`basic role: ${who}`);
    if (b.scope === 'project') {
      if (runtime.has(b.member)) {
        const jobs = b.role === 'roles/bigquery.jobUser' && b.condition === undefined;
        const oneDatabase =
          (b.role === 'roles/datastore.user' || b.role === 'roles/datastore.viewer') &&
          /^expression=resource\.name=="projects\/[a-z0-9-]+\/databases\/[^"]+",title=/.test(b.condition ?? '');
        if (!jobs && !oneDatabase) out.push(`project-wide role for a runtime account: ${who}`);
      } else if (b.member === BUILD) {
        if (b.role !== 'roles/logging.logWriter') out.push(`project-wide role for the build account: ${who}`);
      } else if (DATA_ROLE.test(b.role)) out.push(`project-wide role: ${who}`);
      if (b.resource !== projectId) out.push(`grant on another project: ${who}`);
    }
    if (b.role === 'roles/run.invoker') {
      if (b.scope !== 'service') out.push(`run.invoker beyond one service: ${who}`);
      if (b.member !== RUNTIME.pusher && b.member !== RUNTIME.scheduler)
        out.push(`run.invoker for an account that calls no service: ${who}`);
      const calls = b.member === RUNTIME.pusher ? made.pushSubscriptions.map((s) => s.service) : made.jobTargets;
      if (!calls.includes(b.resource)) out.push(`run.invoker on a service the account does not call: ${who}`);
    }
    if (b.role.startsWith('roles/run.') && b.role !== 'roles/run.invoker' && !(b.member === BUILD && b.scope === 'service'))
      out.push(`Cloud Run role beyond the build's deploys: ${who}`);
    if (b.role.startsWith('roles/bigquery.data') && b.scope !== 'table') out.push(`BigQuery data role beyond one table: ${who}`);
    if (b.role.startsWith('roles/pubsub.')) {
      if (b.scope === 'topic' && !made.topics.has(b.resource)) out.push(`Pub/Sub role on a topic the plan does not create: ${who}`);
      if (b.scope === 'subscription' && !made.pushSubscriptions.some((s) => s.name === b.resource))
        out.push(`Pub/Sub role on a subscription the plan does not create: ${who}`);
      if (b.scope !== 'topic' && b.scope !== 'subscription') out.push(`Pub/Sub role beyond one topic or subscription: ${who}`);
      if (b.member === PUBSUB_AGENT && b.role === 'roles/pubsub.publisher' && !b.resource.endsWith('-dlq'))
        out.push(`the Pub/Sub agent may publish beyond dead-letter topics: ${who}`);
    }
    if (b.role.startsWith('roles/secretmanager.') && !(b.scope === 'secret' && made.secrets.has(b.resource)))
      out.push(`Secret Manager role beyond one secret the plan creates: ${who}`);
    if (b.role.startsWith('roles/storage.') && !(b.scope === 'bucket' && made.buckets.has(b.resource.replace(/^gs:\/\//, ''))))
      out.push(`Cloud Storage role beyond one bucket the plan creates: ${who}`);
    if (b.role.startsWith('roles/iam.') && b.scope !== 'serviceAccount') out.push(`IAM role beyond one service account: ${who}`);
    if (b.role.startsWith('roles/artifactregistry.') && b.scope !== 'repository')
      out.push(`Artifact Registry role beyond the repository: ${who}`);
  }
  return out;
}

describe('setup plan: least privilege', () => {
  const plan = buildSetupPlan(options);
  const bindings = bindingsIn(plan);

  it('gives no runtime account a project-wide data or invoker role (nor any other rule above is broken)', () => {
    expect(bindings.length).toBeGreaterThan(20);
    expect(violations(plan)).toEqual([]);
  });

  it('catches a project-wide data or invoker role, so the check above can fail', () => {
    const broad = (member: string, role: string): Step => ({
      title: 'broad',
      run: ['gcloud', 'projects', 'add-iam-policy-binding', P, `--member=${member}`, `--role=${role}`, '--condition=None'],
    });
    expect(violations([...plan, broad(RUNTIME.worker, 'roles/bigquery.dataEditor')])).toContainEqual(
      expect.stringMatching(/^project-wide role for a runtime account: .*prediction-worker.*bigquery\.dataEditor/),
    );
    expect(violations([...plan, broad(RUNTIME.pusher, 'roles/run.invoker')]).join('\n')).toMatch(
      /project-wide role for a runtime account.*\n.*run\.invoker beyond one service/,
    );
    expect(violations([...plan, broad(RUNTIME.coordinator, 'roles/datastore.user')])).toHaveLength(1);
    expect(violations([...plan, broad(BUILD, 'roles/run.admin')])).toHaveLength(2);
    const invokeCoordinator: Step = {
      title: 'x',
      run: [
        'gcloud',
        'run',
        'services',
        'add-iam-policy-binding',
        'prediction-worker-prod',
        '--region=us-west2',
        `--member=${RUNTIME.scheduler}`,
        '--role=roles/run.invoker',
      ],
    };
    expect(violations([...plan, invokeCoordinator])).toEqual([
      expect.stringMatching(/run\.invoker on a service the account does not call/),
    ]);
  });

  it('lets the pusher invoke exactly the services it pushes to, and the scheduler the service its jobs call', () => {
    const invokers = bindings
      .filter((b) => b.role === 'roles/run.invoker')
      .map((b) => `${b.member.split(':')[1]?.split('@')[0]} → ${b.resource}`);
    expect(invokers.sort()).toEqual([
      'prediction-pubsub-push → prediction-coordinator-prod',
      'prediction-pubsub-push → prediction-worker-prod',
      'prediction-scheduler → prediction-coordinator-prod',
    ]);
  });

  it('grants BigQuery data roles on exactly the tables each service’s SQL reads or writes, editing only what it writes', () => {
    for (const service of ['coordinator', 'worker'] as const) {
      const use = tablesUsed(importGraph(serviceEntry(service)));
      const mine = bindings.filter((b) => b.member === RUNTIME[service] && b.scope === 'table');
      const tablesWith = (role: string) => new Set(mine.filter((b) => b.role === role).map((b) => b.resource.replace(`${P}.`, '')));
      expect(tablesWith('roles/bigquery.dataEditor'), `${service} edits`).toEqual(use.write);
      expect(tablesWith('roles/bigquery.dataViewer'), `${service} reads`).toEqual(use.read);
      expect(use.read.size + use.write.size, `${service} touches some tables`).toBeGreaterThan(0);
    }
  });

  it('keeps each remaining runtime grant on its one resource: topics, the secret, the model bucket', () => {
    const of = (member: string) =>
      bindings
        .filter((b) => b.member === member && b.scope !== 'table' && b.scope !== 'project')
        .map((b) => `${b.role} ${b.scope} ${b.resource}`);
    expect(of(RUNTIME.coordinator).sort()).toEqual(
      [
        'roles/pubsub.publisher topic nba-phase5-predictions-complete',
        'roles/pubsub.publisher topic prediction-consolidate-prod',
        'roles/pubsub.publisher topic prediction-health-prod',
        'roles/pubsub.publisher topic prediction-request-prod',
        'roles/secretmanager.secretAccessor secret coordinator-api-key',
        'roles/secretmanager.secretAccessor secret slack-webhook-url',
      ].sort(),
    );
    expect(of(RUNTIME.worker).sort()).toEqual(
      [
        'roles/pubsub.publisher topic prediction-health-prod',
        'roles/pubsub.publisher topic prediction-ready-prod',
        'roles/storage.objectViewer bucket gs://nba-props-nba-models',
      ].sort(),
    );
  });

  it('gives the build account what a build and deploy need, on those resources only', () => {
    const build = bindings.filter((b) => b.member === BUILD).map((b) => `${b.role} ${b.scope} ${b.resource}`);
    expect(build.sort()).toEqual(
      [
        `roles/logging.logWriter project ${P}`,
        'roles/artifactregistry.writer repository nba-predictions',
        'roles/storage.objectViewer bucket gs://nba-props-nba-build',
        'roles/run.admin service prediction-coordinator-prod',
        'roles/run.admin service prediction-worker-prod',
        `roles/iam.serviceAccountUser serviceAccount prediction-coordinator@${P}.iam.gserviceaccount.com`,
        `roles/iam.serviceAccountUser serviceAccount prediction-worker@${P}.iam.gserviceaccount.com`,
      ].sort(),
    );
  });
});

describe('setup plan: the day’s topics, jobs and secrets', () => {
  const plan = buildSetupPlan(options);
  const lines = commandsOf(plan).map((c) => c.join(' '));
  const bindings = bindingsIn(plan);

  it('creates each pushed topic with its push subscription, its dead-letter topic (itself pushed to /dead-letter) and grants', () => {
    for (const [topic, path] of [
      ['prediction-request-prod', '/predict'],
      ['prediction-ready-prod', '/complete'],
      ['prediction-consolidate-prod', '/consolidate'],
      ['nba-prediction-trigger', '/regenerate-pubsub'],
    ] as const) {
      expect(lines).toContain(`gcloud pubsub topics create ${topic} --project ${P}`);
      expect(lines).toContain(`gcloud pubsub topics create ${topic}-dlq --project ${P}`);
      const service = path === '/predict' ? WORKER : COORD;
      const sub = lines.find((l) => l.startsWith(`gcloud pubsub subscriptions create ${topic}-push `));
      expect(sub).toContain(`--push-endpoint=${service}${path}`);
      expect(sub).toContain(`--dead-letter-topic=${topic}-dlq`);
      const dead = lines.find((l) => l.startsWith(`gcloud pubsub subscriptions create ${topic}-dlq-push `));
      expect(dead).toContain(`--push-endpoint=${COORD}/dead-letter`);
      expect(dead).not.toContain('--dead-letter-topic');
      expect(bindings).toContainEqual(
        expect.objectContaining({
          member: PUBSUB_AGENT,
          role: 'roles/pubsub.subscriber',
          scope: 'subscription',
          resource: `${topic}-push`,
        }),
      );
      expect(bindings).toContainEqual(
        expect.objectContaining({ member: PUBSUB_AGENT, role: 'roles/pubsub.publisher', scope: 'topic', resource: `${topic}-dlq` }),
      );
    }
    expect(bindings).toContainEqual(
      expect.objectContaining({
        member: RUNTIME.coordinator,
        role: 'roles/pubsub.publisher',
        scope: 'topic',
        resource: 'prediction-consolidate-prod',
      }),
    );
    // The trigger is published upstream: nobody this setup owns may publish it.
    expect(bindings.filter((b) => b.resource === 'nba-prediction-trigger' && b.role === 'roles/pubsub.publisher')).toEqual([]);
  });

  it('creates the day’s Scheduler jobs (converging like the others) and the Slack secret with one reader', () => {
    for (const [name, path] of [
      ['prediction-check-lines-prod', '/check-lines'],
      ['prediction-morning-summary-prod', '/morning-summary'],
      ['prediction-check-signal-prod', '/check-signal'],
    ]) {
      const step = plan.find((s) => s.run?.join(' ').startsWith(`gcloud scheduler jobs create http ${name} `));
      expect(step?.run?.join(' ')).toContain(`--uri=${COORD}${path}`);
      expect(step?.converge).toBeDefined();
    }
    expect(lines).toContain(`gcloud secrets create slack-webhook-url --replication-policy=automatic --project ${P}`);
    expect(bindings.filter((b) => b.resource === 'slack-webhook-url').map((b) => `${b.member} ${b.role}`)).toEqual([
      `${RUNTIME.coordinator} roles/secretmanager.secretAccessor`,
    ]);
  });
});

describe('setup plan: a new topic, job or secret is one entry, covered by the same rules', () => {
  const extended = (o: SetupOptions): Deployment => {
    const d = deployment(o);
    return {
      ...d,
      topics: [
        ...d.topics,
        {
          name: `prediction-example${o.suffix}`,
          publishers: ['worker'],
          push: { to: 'coordinator', path: '/example', ackDeadlineSeconds: 60, deadLetterTopic: `prediction-example${o.suffix}-dlq` },
        },
        {
          name: `prediction-example${o.suffix}-dlq`,
          publishers: [],
          push: { to: 'coordinator', path: '/dead-letter', ackDeadlineSeconds: 60 },
        },
      ],
      schedules: [
        ...d.schedules,
        {
          name: `prediction-example${o.suffix}`,
          to: 'coordinator',
          schedule: '0 * * * *',
          path: '/example',
          body: '{}',
          attemptDeadline: '60s',
        },
      ],
      secrets: [...d.secrets, { name: 'example-secret', readers: ['worker'], purpose: 'an example' }],
    };
  };
  const plan = buildSetupPlan(options, extended);
  const lines = commandsOf(plan).map((c) => c.join(' '));
  const bindings = bindingsIn(plan);

  it('still breaks no rule, and each entry brings its resources and grants', () => {
    expect(violations(plan)).toEqual([]);
    expect(lines).toContain(`gcloud pubsub topics create prediction-example-prod --project ${P}`);
    expect(lines.find((l) => l.startsWith('gcloud pubsub subscriptions create prediction-example-prod-push '))).toContain(
      `--push-endpoint=${COORD}/example`,
    );
    expect(lines.find((l) => l.startsWith('gcloud scheduler jobs create http prediction-example-prod '))).toContain(
      `--uri=${COORD}/example`,
    );
    expect(bindings).toContainEqual(
      expect.objectContaining({
        member: RUNTIME.worker,
        role: 'roles/pubsub.publisher',
        scope: 'topic',
        resource: 'prediction-example-prod',
      }),
    );
    expect(bindings).toContainEqual(
      expect.objectContaining({
        member: RUNTIME.worker,
        role: 'roles/secretmanager.secretAccessor',
        scope: 'secret',
        resource: 'example-secret',
      }),
    );
  });
});
