/**
 * cloudbuild.yaml rendered the way Cloud Build renders it — once as `gcloud builds submit` with the substitutions setup-gcp
 * prints (no commit: $COMMIT_SHA and $SHORT_SHA are empty), once as a trigger build — and checked against what it must
 * produce: valid image references, a timeout, the build account setup creates, deploys whose services, accounts, invoker
 * check, push-auth mode, audience and location agree with the setup plan, environments the services' own config schemas
 * accept as on Cloud Run, and the worker's startup probe on /ready.
 * Substitution rules: https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/import-graph.js';
import { buildSetupPlan, serviceAccounts, serviceNames, type SetupOptions } from '../../bin/setup/plan.js';
import { deployment } from '../../bin/setup/topology.js';
import { loadWorkerConfig } from '../../services/worker/config.js';
import { loadCoordinatorConfig } from '../../services/coordinator/config.js';

interface BuildStep {
  id: string;
  name: string;
  entrypoint?: string;
  args: string[];
  env?: string[];
  waitFor?: string[];
}
interface BuildConfig {
  substitutions: Record<string, string>;
  serviceAccount: string;
  timeout: string;
  options: Record<string, string>;
  steps: BuildStep[];
  images: string[];
}

const raw = readFileSync(join(repoRoot, 'cloudbuild.yaml'), 'utf8');
const config = parse(raw) as BuildConfig;

const PROJECT = 'nba-props';
const NUMBER = '123456789012';
const REGION = 'us-west2';
const url = (svc: string) => `https://${svc}-${NUMBER}.${REGION}.run.app`;
/** What setup-gcp prints for `--project nba-props --region us-west2 --location EU` (the defaults otherwise). */
const given = {
  _REGION: REGION,
  _LOCATION: 'EU',
  _SUFFIX: '-prod',
  _FIRESTORE_DATABASE: '(default)',
  _COORDINATOR_URL: url('prediction-coordinator-prod'),
  _WORKER_URL: url('prediction-worker-prod'),
};

const TRIGGER_COMMIT = '4a1f0c9e2b7d3e5f6a8b9c0d1e2f3a4b5c6d7e8f';
const builtIns = (trigger: boolean): Record<string, string> => ({
  PROJECT_ID: PROJECT,
  PROJECT_NUMBER: NUMBER,
  BUILD_ID: '1f8b1c2e-3d4a-4b5c-9d6e-7f8091a2b3c4',
  LOCATION: 'global',
  SERVICE_ACCOUNT_EMAIL: `prediction-build@${PROJECT}.iam.gserviceaccount.com`,
  // Defined only for builds started by a trigger; `gcloud builds submit` leaves them empty.
  COMMIT_SHA: trigger ? TRIGGER_COMMIT : '',
  SHORT_SHA: trigger ? '4a1f0c9' : '',
  REVISION_ID: trigger ? '4a1f0c9e2b7d3e5f6a8b9c0d1e2f3a4b5c6d7e8f' : '',
  BRANCH_NAME: trigger ? 'main' : '',
  TAG_NAME: '',
  REPO_NAME: trigger ? 'nba-points-predictions' : '',
  TRIGGER_NAME: trigger ? 'deploy-main' : '',
});

/** Cloud Build's substitution: `$$` is a literal `$`; `$VAR` and `${VAR}` are replaced; an unknown variable fails the build. */
function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Z_][A-Z0-9_]*)\}|\$([A-Z_][A-Z0-9_]*)/g, (m, braced?: string, bare?: string) => {
    if (m === '$$') return '$';
    const name = (braced ?? bare) as string;
    if (!Object.hasOwn(values, name))
      throw new Error(`cloudbuild.yaml uses $${name}, which is neither a built-in nor a declared substitution`);
    return values[name] as string;
  });
}

function render(trigger: boolean, overrides: Record<string, string> = given): BuildConfig {
  const values = { ...builtIns(trigger), ...config.substitutions, ...overrides };
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? substitute(v, values)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  return walk({ ...config, substitutions: undefined }) as BuildConfig;
}

const step = (c: BuildConfig, id: string): BuildStep => {
  const s = c.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
};
const flag = (args: readonly string[], name: string): string | undefined =>
  args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
/** `--set-env-vars=^|^A=1|B=2` → {A: '1', B: '2'} (gcloud's alternate delimiter). */
function envOf(args: readonly string[]): Record<string, string> {
  const value = flag(args, '--set-env-vars') ?? '';
  const m = /^\^(.)\^(.*)$/s.exec(value);
  const [delim, body] = m ? [m[1] as string, m[2] as string] : [',', value];
  return Object.fromEntries(body.split(delim).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** Artifact Registry Docker image: LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG, a tag of 1–128 [\w.-] not starting with . or -. */
const IMAGE_REF =
  /^[a-z]+(-[a-z]+)+[0-9]+-docker\.pkg\.dev\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9._-]*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const planOptions = (location: string): SetupOptions => ({
  projectId: PROJECT,
  projectNumber: NUMBER,
  region: REGION,
  location,
  suffix: '-prod',
  coordinatorUrl: given._COORDINATOR_URL,
  workerUrl: given._WORKER_URL,
  ddl: [],
  modelBucket: `${PROJECT}-nba-models`,
  buildBucket: `${PROJECT}-nba-build`,
  firestoreDatabase: '(default)',
  startSchedule: '0 10 * * *',
  maxDeliveryAttempts: 5,
});

describe.each([
  ['gcloud builds submit', false],
  ['a trigger build', true],
])('cloudbuild.yaml as %s', (_name, trigger) => {
  const c = render(trigger);

  it('tags, pushes and deploys valid image references, the same ones throughout', () => {
    const built = c.steps.filter((s) => s.args[0] === 'build').map((s) => s.args[s.args.indexOf('-t') + 1] as string);
    const pushed = c.steps.filter((s) => s.args[0] === 'push').map((s) => s.args[1] as string);
    const deployed = c.steps.filter((s) => s.args[0] === 'run' && s.args[1] === 'deploy').map((s) => flag(s.args, '--image') as string);
    expect(built).toHaveLength(2);
    for (const ref of [...built, ...pushed, ...deployed, ...c.images]) expect(ref, ref).toMatch(IMAGE_REF);
    expect(new Set(pushed)).toEqual(new Set(built));
    expect(new Set(deployed)).toEqual(new Set(built));
    expect(new Set(c.images)).toEqual(new Set(built));
    // The commit label is empty without a commit (docker accepts `--label key=`); nothing else may be.
    for (const s of c.steps)
      for (const a of s.args.filter((x) => !x.startsWith('--label='))) expect(a, `${s.id}: ${a}`).not.toMatch(/^$|=$/);
  });

  it('runs as the build account setup creates, under a timeout longer than the 10-minute default, logging to Cloud Logging', () => {
    expect(c.serviceAccount).toBe(`projects/${PROJECT}/serviceAccounts/${serviceAccounts(PROJECT).build.email}`);
    const seconds = Number(/^(\d+)s$/.exec(c.timeout)?.[1]);
    expect(seconds).toBeGreaterThan(600);
    expect(c.options.logging).toBe('CLOUD_LOGGING_ONLY');
  });

  it('deploys the services the setup plan names, as their runtime accounts, with the invoker check the plan expects', () => {
    const d = deployment(planOptions(given._LOCATION));
    for (const key of ['coordinator', 'worker'] as const) {
      const s = step(c, `deploy-${key}`);
      expect(s.args[2]).toBe(serviceNames('-prod')[key]);
      expect(flag(s.args, '--service-account')).toBe(d.accounts[d.services[key].runsAs].email);
      expect(flag(s.args, '--region')).toBe(REGION);
      const checkOn = s.args.includes('--invoker-iam-check');
      const checkOff = s.args.includes('--no-invoker-iam-check');
      expect(checkOn !== checkOff, 'the invoker IAM check is set explicitly, one way').toBe(true);
      expect(checkOn).toBe(d.services[key].invokerIamCheck);
      const env = envOf(s.args);
      // PUSH_AUTH=iam trusts Cloud Run's check: only with the check on. With the check off, only in-app verification.
      expect(env.PUSH_AUTH).toBe(checkOn ? 'iam' : 'oidc');
      expect(env.BIGQUERY_LOCATION).toBe(given._LOCATION);
      expect(env.GCP_PROJECT_ID).toBe(PROJECT);
    }
  });

  it('gives each service the push audience its push subscription uses in the setup plan', () => {
    const plan = buildSetupPlan(planOptions(given._LOCATION));
    const audienceOf = (endpointPath: string) => {
      const create = plan.find(
        (s) =>
          s.run?.includes('subscriptions') &&
          s.run.includes('create') &&
          s.run.some((a) => a.startsWith('--push-endpoint=') && a.endsWith(endpointPath)),
      );
      return flag(create?.run ?? [], '--push-auth-token-audience');
    };
    expect(envOf(step(c, 'deploy-worker').args).PUSH_AUTH_AUDIENCE).toBe(audienceOf('/predict'));
    expect(envOf(step(c, 'deploy-coordinator').args).PUSH_AUTH_AUDIENCE).toBe(audienceOf('/complete'));
    expect(envOf(step(c, 'deploy-worker').args).PUSH_AUTH_SERVICE_ACCOUNTS).toBe(serviceAccounts(PROJECT).pusher.email);
  });

  it('deploys environments the services accept at boot on Cloud Run (the configs are parsed by their own schemas)', () => {
    const worker = loadWorkerConfig({ ...envOf(step(c, 'deploy-worker').args), K_SERVICE: 'prediction-worker-prod' });
    expect([worker.WAREHOUSE, worker.BUS, worker.MODEL_STORE, worker.PUSH_AUTH, worker.BIGQUERY_LOCATION]).toEqual([
      'bigquery',
      'pubsub',
      'gcs',
      'iam',
      'EU',
    ]);
    const coordinator = loadCoordinatorConfig({ ...envOf(step(c, 'deploy-coordinator').args), K_SERVICE: 'prediction-coordinator-prod' });
    expect([
      coordinator.WAREHOUSE,
      coordinator.BATCH_STORE,
      coordinator.PUSH_AUTH,
      coordinator.BIGQUERY_LOCATION,
      coordinator.FIRESTORE_DATABASE,
    ]).toEqual(['bigquery', 'firestore', 'oidc', 'EU', '(default)']);
    expect(coordinator.OPERATOR_AUTH_EMAILS).toEqual([serviceAccounts(PROJECT).scheduler.email]);
    // The worker reads the coordinator's batch store (to skip requests of ended batches): the same database and root.
    expect([worker.BATCH_STORE, worker.FIRESTORE_DATABASE, worker.FIRESTORE_ROOT]).toEqual([
      'firestore',
      coordinator.FIRESTORE_DATABASE,
      coordinator.FIRESTORE_ROOT,
    ]);
    expect(worker.BUILD_COMMIT).toBe(trigger ? TRIGGER_COMMIT : 'unknown');
  });

  it('deploys the coordinator only once the worker deployed (a worker failing its probe stops the build first)', () => {
    expect(step(c, 'deploy-coordinator').waitFor).toContain('deploy-worker');
  });

  it('keeps a worker without its champion away from traffic: an HTTP startup probe on /ready within Cloud Run’s 240 s', () => {
    const probe = flag(step(c, 'deploy-worker').args, '--startup-probe') ?? '';
    const settings = Object.fromEntries(probe.split(',').map((kv) => kv.split('=') as [string, string]));
    expect(settings['httpGet.path']).toBe('/ready');
    expect(Number(settings['httpGet.port'])).toBe(loadWorkerConfig({}).PORT);
    const window = Number(settings.periodSeconds) * Number(settings.failureThreshold) + Number(settings.initialDelaySeconds ?? 0);
    expect(window).toBeGreaterThan(0);
    expect(window).toBeLessThanOrEqual(240);
    expect(Number(settings.timeoutSeconds)).toBeLessThanOrEqual(Number(settings.periodSeconds));
  });
});

describe('cloudbuild.yaml and its inputs', () => {
  it('declares every substitution it uses, and uses every one setup-gcp passes (Cloud Build refuses either mismatch)', () => {
    const used = new Set([...raw.matchAll(/\$\{(_[A-Z0-9_]+)\}|\$(_[A-Z0-9_]+)/g)].map((m) => (m[1] ?? m[2]) as string));
    expect(new Set(Object.keys(config.substitutions))).toEqual(used);
    for (const key of Object.keys(given)) expect(used).toContain(key);
  });

  it('builds Dockerfile targets that exist', () => {
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const stages = new Set([...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]));
    for (const s of config.steps.filter((x) => x.args[0] === 'build')) expect(stages).toContain(flag(s.args, '--target'));
  });

  it('stops before building when setup’s values are missing, naming the substitution', () => {
    const check = (overrides: Record<string, string>) => {
      const s = step(render(false, { ...given, ...overrides }), 'check-substitutions');
      return spawnSync('bash', s.args, { encoding: 'utf8' });
    };
    expect(check({}).status).toBe(0);
    const noLocation = check({ _LOCATION: '' });
    expect(noLocation.status).toBe(1);
    expect(noLocation.stderr).toMatch(/substitution _LOCATION is required/);
    expect(check({ _WORKER_URL: '' }).stderr).toMatch(/_WORKER_URL is required/);
  });

  it('without _LOCATION the deployed services would refuse to boot (so the check above is not the only guard)', () => {
    const env = envOf(step(render(false, { ...given, _LOCATION: '' }), 'deploy-worker').args);
    expect(() => loadWorkerConfig({ ...env, K_SERVICE: 'prediction-worker-prod' })).toThrow(
      /BIGQUERY_LOCATION: required with WAREHOUSE=bigquery/,
    );
  });
});
