/**
 * Sets up a Google Cloud project for the two services, idempotently: APIs, service accounts and roles, Firestore, the model
 * bucket, the API-key secret, BigQuery datasets and tables (rendered from the one schema), topics with dead-letter topics,
 * OIDC push subscriptions, and the Cloud Scheduler jobs. Prints every command; `--dry-run` prints without running.
 *
 *   npm run setup-gcp -- --project nba-props --region us-west2 [--suffix -prod] [--dry-run]
 */
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { PRODUCT_TABLES, ALL_TABLES } from '../shared/contracts/tables.js';
import { renderBigQueryDdl } from '../shared/adapters/bigquery/bigquery-ddl.js';
import { buildSetupPlan, serviceNames } from './setup/plan.js';
import { runPlan } from './setup/run-plan.js';
import { errorMessage } from '../shared/errors/error-message.js';

const USAGE = `usage: setup-gcp --project ID --region REGION [options]
  --project ID             GCP project id (required)
  --region REGION          Cloud Run, Scheduler and Artifact Registry region (required)
  --location LOC           BigQuery/Firestore/bucket location (default US)
  --suffix S               service and topic suffix (default -prod)
  --project-number N       looked up with gcloud when not given (placeholder in --dry-run)
  --coordinator-url URL    default: Cloud Run's deterministic URL https://<service>-<project-number>.<region>.run.app
  --worker-url URL         same, for the worker
  --model-bucket NAME      default <project>-nba-models
  --start-schedule CRON    daily /start, America/New_York (default "0 10 * * *")
  --max-delivery-attempts N  before a push message is dead-lettered (default 5)
  --with-source-tables     also create the upstream tables the services read (a fresh sandbox project)
  --dry-run                print the commands, run nothing`;

function fail(message: string): never {
  process.stderr.write(`setup-gcp: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function lookupProjectNumber(projectId: string): string {
  const r = spawnSync('gcloud', ['projects', 'describe', projectId, '--format=value(projectNumber)'], { encoding: 'utf8' });
  const n = r.stdout?.trim() ?? '';
  if (r.status !== 0 || !/^\d+$/.test(n)) fail(`cannot read the project number of ${projectId}: ${(r.stderr ?? r.error?.message ?? '').trim()}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      project: { type: 'string' },
      region: { type: 'string' },
      location: { type: 'string', default: 'US' },
      suffix: { type: 'string', default: '-prod' },
      'project-number': { type: 'string' },
      'coordinator-url': { type: 'string' },
      'worker-url': { type: 'string' },
      'model-bucket': { type: 'string' },
      'start-schedule': { type: 'string', default: '0 10 * * *' },
      'max-delivery-attempts': { type: 'string', default: '5' },
      'with-source-tables': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const projectId = values.project ?? fail('--project is required');
  const region = values.region ?? fail('--region is required');
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(projectId)) fail(`--project '${projectId}' is not a valid project id`);
  if (!/^[a-z0-9-]*$/.test(values.suffix)) fail(`--suffix '${values.suffix}' may hold only a-z, 0-9 and -`);
  const attempts = Number(values['max-delivery-attempts']);
  if (!Number.isInteger(attempts) || attempts < 5 || attempts > 100) fail('--max-delivery-attempts must be an integer from 5 to 100 (Pub/Sub limits)');
  const dryRun = values['dry-run'];
  const projectNumber = values['project-number'] ?? (dryRun ? 'PROJECT_NUMBER' : lookupProjectNumber(projectId));
  const services = serviceNames(values.suffix);
  const runUrl = (service: string) => `https://${service}-${projectNumber}.${region}.run.app`;
  const tables = values['with-source-tables'] ? ALL_TABLES : PRODUCT_TABLES;

  const plan = buildSetupPlan({
    projectId,
    projectNumber,
    region,
    location: values.location,
    suffix: values.suffix,
    coordinatorUrl: values['coordinator-url'] ?? runUrl(services.coordinator),
    workerUrl: values['worker-url'] ?? runUrl(services.worker),
    ddl: renderBigQueryDdl(tables, { projectId, location: values.location }),
    modelBucket: values['model-bucket'] ?? `${projectId}-nba-models`,
    startSchedule: values['start-schedule'],
    maxDeliveryAttempts: attempts,
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const summary = await runPlan(plan, { dryRun, out });
  out(dryRun ? `# dry run: ${summary.planned} steps printed, nothing run` : `# done: ${summary.created} steps run, ${summary.skipped} already in place`);
  out(`# coordinator URL: ${values['coordinator-url'] ?? runUrl(services.coordinator)}`);
  out(`# worker URL:      ${values['worker-url'] ?? runUrl(services.worker)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`setup-gcp: ${errorMessage(err)}\n`);
  process.exit(1);
});
