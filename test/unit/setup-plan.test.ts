/**
 * The Google Cloud setup plan, run against stand-in `gcloud` and `bq` executables on PATH that record their arguments and
 * answer `describe` from a list of resources that "exist": a re-run creates only what is missing, and --dry-run runs nothing.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSetupPlan, type SetupOptions } from '../../bin/setup/plan.js';
import { runPlan, shellLine } from '../../bin/setup/run-plan.js';
import { renderBigQueryDdl } from '../../shared/adapters/bigquery/bigquery-ddl.js';
import { PRODUCT_TABLES } from '../../shared/contracts/tables.js';

const options: SetupOptions = {
  projectId: 'nba-props',
  projectNumber: '123456',
  region: 'us-west2',
  location: 'US',
  suffix: '-prod',
  coordinatorUrl: 'https://prediction-coordinator-prod-abc.a.run.app',
  workerUrl: 'https://prediction-worker-prod-abc.a.run.app',
  ddl: renderBigQueryDdl(PRODUCT_TABLES, { projectId: 'nba-props', location: 'US' }),
  modelBucket: 'nba-props-models',
  startSchedule: '0 10 * * *',
  maxDeliveryAttempts: 5,
};

/** A bin dir with `gcloud` and `bq` scripts: every call is appended to calls.log; `describe` succeeds for names in exists.txt. */
function fakeCloud(existing: string[]): { env: NodeJS.ProcessEnv; calls: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-cloud-'));
  writeFileSync(join(dir, 'exists.txt'), `${existing.join('\n')}\n`);
  const script = `#!/bin/sh
echo "$(basename "$0") $*" >> "${dir}/calls.log"
case "$*" in
  *"indexes composite create"*)
    if grep -qx "firestore-indexes" "${dir}/exists.txt"; then echo "ALREADY_EXISTS: index already exists" >&2; exit 1; fi
    exit 0 ;;
  *" describe "*)
    for name in $(cat "${dir}/exists.txt"); do
      case " $* " in *" $name "*) exit 0 ;; esac
    done
    echo "NOT_FOUND" >&2; exit 1 ;;
esac
exit 0
`;
  for (const bin of ['gcloud', 'bq']) {
    writeFileSync(join(dir, bin), script);
    chmodSync(join(dir, bin), 0o755);
  }
  return {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` },
    calls: () => (existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n') : []),
  };
}

describe('setup plan', () => {
  const plan = buildSetupPlan(options);
  const lines = plan.map((s) => shellLine(s.run));

  it('creates the request and completion push subscriptions with OIDC, ack deadlines and dead-lettering', () => {
    const create = lines.filter((l) => l.includes('pubsub subscriptions create') && l.includes('push-endpoint'));
    expect(create).toHaveLength(2);
    const request = create.find((l) => l.includes('prediction-request-prod-push'));
    expect(request).toContain('--push-endpoint=https://prediction-worker-prod-abc.a.run.app/predict');
    expect(request).toContain('--push-auth-token-audience=https://prediction-worker-prod-abc.a.run.app');
    expect(request).toContain('--push-auth-service-account=prediction-pubsub-push@nba-props.iam.gserviceaccount.com');
    expect(request).toContain('--dead-letter-topic=prediction-request-prod-dlq');
    expect(request).toContain('--max-delivery-attempts=5');
    const ready = create.find((l) => l.includes('prediction-ready-prod-push'));
    expect(ready).toContain('--push-endpoint=https://prediction-coordinator-prod-abc.a.run.app/complete');
    expect(ready).toContain('--ack-deadline=600');
  });

  it('schedules the daily /start and /check-stalled every five minutes with OIDC to the coordinator', () => {
    const jobs = lines.filter((l) => l.includes('scheduler jobs create http'));
    expect(jobs).toHaveLength(2);
    expect(jobs[0]).toContain("'--schedule=0 10 * * *'");
    expect(jobs[0]).toContain('--uri=https://prediction-coordinator-prod-abc.a.run.app/start');
    expect(jobs[1]).toContain("'--schedule=*/5 * * * *'");
    expect(jobs[1]).toContain('/check-stalled');
    for (const j of jobs) expect(j).toContain('--oidc-token-audience=https://prediction-coordinator-prod-abc.a.run.app');
  });

  it('creates the product datasets and tables through bq, staging partitioned by write time with an expiry', () => {
    const ddl = plan.filter((s) => s.run[0] === 'bq').map((s) => s.run.at(-1) ?? '');
    expect(ddl.filter((sql) => sql.startsWith('CREATE TABLE IF NOT EXISTS'))).toHaveLength(PRODUCT_TABLES.length);
    const staging = ddl.find((sql) => sql.includes('`nba-props.nba_predictions.prediction_staging`')) ?? '';
    expect(staging).toMatch(/PARTITION BY DATE\(`created_at`\)/);
    expect(staging).toMatch(/CLUSTER BY `batch_id`/);
    expect(staging).toMatch(/partition_expiration_days\s*=\s*7/);
    expect(ddl.find((sql) => sql.includes('player_prop_predictions'))).toMatch(/PARTITION BY `game_date`/);
  });

  it('--dry-run prints every command and runs none', async () => {
    const cloud = fakeCloud([]);
    const out: string[] = [];
    const summary = await runPlan(plan, { dryRun: true, out: (l) => out.push(l), env: cloud.env });
    expect(cloud.calls()).toEqual([]);
    expect(summary.planned).toBe(plan.length);
    for (const l of lines) expect(out).toContain(l);
  });

  it('creates what is missing and, re-run when everything exists, creates nothing new', async () => {
    const first = fakeCloud([]);
    const created = await runPlan(plan, { dryRun: false, out: () => undefined, env: first.env });
    expect(created.skipped).toBe(0);
    expect(first.calls().filter((c) => c.includes(' create '))).toHaveLength(plan.filter((s) => s.run.includes('create')).length);

    const existing = ['nba-props', 'prediction-request-prod', 'prediction-ready-prod', 'nba-phase5-predictions-complete', 'prediction-request-prod-dlq', 'prediction-ready-prod-dlq',
      'prediction-request-prod-push', 'prediction-ready-prod-push', 'prediction-request-prod-dlq-sub', 'prediction-ready-prod-dlq-sub', 'nba-predictions', 'gs://nba-props-models',
      'coordinator-api-key', '--database=(default)', 'firestore-indexes', 'prediction-start-prod', 'prediction-check-stalled-prod',
      ...['prediction-coordinator', 'prediction-worker', 'prediction-pubsub-push', 'prediction-scheduler'].map((a) => `${a}@nba-props.iam.gserviceaccount.com`)];
    const again = fakeCloud(existing);
    const rerun = await runPlan(plan, { dryRun: false, out: () => undefined, env: again.env });
    expect(rerun.skipped).toBe(plan.filter((s) => s.check || s.alreadyDone).length);
    // Only the index creates run again (there is no describe for them); they answer ALREADY_EXISTS and count as in place.
    expect(again.calls().filter((c) => / create /.test(c) && !c.includes('indexes composite create'))).toEqual([]);
  });

  it('treats an index that already exists as in place', async () => {
    const cloud = fakeCloud([]);
    const index = plan.find((s) => s.title.startsWith('Firestore index')) ?? { title: 'missing', run: [] };
    const exists = { ...index, run: ['sh', '-c', 'echo "ERROR: (gcloud) ALREADY_EXISTS: index already exists" >&2; exit 1'] };
    const summary = await runPlan([exists], { dryRun: false, out: () => undefined, env: cloud.env });
    expect(summary).toEqual({ created: 0, skipped: 1, planned: 0 });
  });

  it('stops at the first failing step and names it', async () => {
    const cloud = fakeCloud([]);
    const failing = [{ title: 'a step that fails', run: ['sh', '-c', 'echo boom >&2; exit 3'] }, { title: 'never runs', run: ['gcloud', 'x'] }];
    await expect(runPlan(failing, { dryRun: false, out: () => undefined, env: cloud.env })).rejects.toThrow(/step 1 \(a step that fails\) failed with exit 3: boom/);
    expect(cloud.calls()).toEqual([]);
  });
});
