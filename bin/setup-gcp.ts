/**
 * Sets up a Google Cloud project for the two services, converging on the plan (bin/setup/): APIs, service accounts (the
 * services', the pusher's, the scheduler's and the build's), the Artifact Registry repository, the model and build
 * buckets, Firestore and its indexes, the API-key secret, BigQuery datasets and tables (rendered from the one schema),
 * topics with dead-letter topics, OIDC push subscriptions, the two Cloud Run services (placeholders until the first build),
 * every IAM grant on its narrowest resource, and the Cloud Scheduler jobs. Prints every command; `--dry-run` prints without
 * running; `--grants` lists the grants with their reasons. Ends with the `gcloud builds submit` command for this setup.
 *
 *   npm run setup-gcp -- --project nba-props --region us-west2 [--location US] [--suffix -prod] [--dry-run]
 */
import { spawnSync } from 'node:child_process';
import { PRODUCT_TABLES, ALL_TABLES } from '../shared/contracts/tables.js';
import { renderBigQueryDdl } from '../shared/adapters/bigquery/bigquery-ddl.js';
import { findDataLocation, unsupportedLocationMessage } from '../shared/config/locations.js';
import { buildSetupPlan, serviceNames, setupGrants, type SetupOptions } from './setup/plan.js';
import { describeResource } from './setup/grants.js';
import { runPlan, shellLine } from './setup/run-plan.js';
import { parseSetupArgs } from './setup/args.js';
import { cliUsage } from './cli-usage.js';
import { errorMessage } from '../shared/errors/error-message.js';

const USAGE = `usage: setup-gcp --project ID --region REGION [options]
  --project ID               GCP project id (required)
  --region REGION            Cloud Run, Scheduler and Artifact Registry region (required)
  --location LOC             the one data location: BigQuery datasets and jobs, Firestore, buckets (default US;
                             US, EU or a region, e.g. us-west2); pass the same to the build as _LOCATION
  --suffix S                 service, topic and job suffix (default -prod; --suffix -prod and --suffix=-prod both work)
  --project-number N         looked up with gcloud when not given (placeholder in --dry-run)
  --coordinator-url URL      default: Cloud Run's deterministic URL https://<service>-<project-number>.<region>.run.app
  --worker-url URL           same, for the worker
  --model-bucket NAME        default <project>-nba-models
  --build-bucket NAME        where gcloud builds submit stages the source (default <project>-nba-build)
  --firestore-database ID    the batch store's database (default "(default)"); pass the same to the build
  --start-schedule CRON      daily /start, America/New_York (default "0 10 * * *")
  --max-delivery-attempts N  before a push message is dead-lettered (default 15; the retry backoff, 10 s to 600 s, spreads them over more than an hour)
  --with-source-tables       also create the upstream tables the services read (a fresh sandbox project)
  --dry-run                  print the commands, run nothing
  --grants                   print every IAM grant with its reason, run nothing`;

const { fail, parsed } = cliUsage('setup-gcp', USAGE);

function lookupProjectNumber(projectId: string): string {
  const r = spawnSync('gcloud', ['projects', 'describe', projectId, '--format=value(projectNumber)'], { encoding: 'utf8' });
  const n = r.stdout?.trim() ?? '';
  if (r.status !== 0 || !/^\d+$/.test(n))
    fail(`cannot read the project number of ${projectId}: ${(r.stderr ?? r.error?.message ?? '').trim()}`);
  return n;
}

// eslint-disable-next-line complexity -- CLI entry: option parsing, plan, dry-run/apply and the error exits, read top to bottom
async function main(): Promise<void> {
  const values = parsed(() => parseSetupArgs(process.argv.slice(2)));
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const projectId = values.project ?? fail('--project is required');
  const region = values.region ?? fail('--region is required');
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(projectId)) fail(`--project '${projectId}' is not a valid project id`);
  if (!/^[a-z]+-[a-z]+[0-9]+$/.test(region)) fail(`--region '${region}' is not a region name like us-west2`);
  const location = findDataLocation(values.location) ?? fail(`--location: ${unsupportedLocationMessage(values.location)}`);
  if (!/^[a-z0-9-]*$/.test(values.suffix)) fail(`--suffix '${values.suffix}' may hold only a-z, 0-9 and -`);
  const database = values['firestore-database'];
  if (database !== '(default)' && !/^[a-z][a-z0-9-]{2,61}[a-z0-9]$/.test(database))
    fail(`--firestore-database '${database}' is not "(default)" or a database id (4–63 of a-z, 0-9, -)`);
  const attempts = Number(values['max-delivery-attempts']);
  if (!Number.isInteger(attempts) || attempts < 5 || attempts > 100)
    fail('--max-delivery-attempts must be an integer from 5 to 100 (Pub/Sub limits)');
  const printOnly = values['dry-run'] || values.grants;
  const projectNumber = values['project-number'] ?? (printOnly ? 'PROJECT_NUMBER' : lookupProjectNumber(projectId));
  const services = serviceNames(values.suffix);
  const runUrl = (service: string) => `https://${service}-${projectNumber}.${region}.run.app`;
  const tables = values['with-source-tables'] ? ALL_TABLES : PRODUCT_TABLES;
  const coordinatorUrl = values['coordinator-url'] ?? runUrl(services.coordinator);
  const workerUrl = values['worker-url'] ?? runUrl(services.worker);
  const buildBucket = values['build-bucket'] ?? `${projectId}-nba-build`;

  const options: SetupOptions = {
    projectId,
    projectNumber,
    region,
    location: location.bigquery,
    suffix: values.suffix,
    coordinatorUrl,
    workerUrl,
    ddl: renderBigQueryDdl(tables, { projectId, location: location.bigquery }),
    modelBucket: values['model-bucket'] ?? `${projectId}-nba-models`,
    buildBucket,
    firestoreDatabase: database,
    startSchedule: values['start-schedule'],
    maxDeliveryAttempts: attempts,
  };
  const out = (line: string) => process.stdout.write(`${line}\n`);

  if (values.grants) {
    out('| account | role | on | why |');
    out('|---|---|---|---|');
    for (const g of setupGrants(options)) {
      out(
        `| ${g.member.replace(/^serviceAccount:/, '').replace(/@.*/, '')} | \`${g.role}\` | ${describeResource(g.resource)}${g.condition ? ` (condition: ${g.condition.expression})` : ''} | ${g.why} |`,
      );
    }
    return;
  }

  const summary = await runPlan(buildSetupPlan(options), { dryRun: values['dry-run'], out });
  out(
    values['dry-run']
      ? `# dry run: ${summary.planned} steps printed, nothing run`
      : `# done: ${summary.created} created, ${summary.updated} updated, ${summary.skipped} already as planned`,
  );
  out(`# coordinator URL: ${coordinatorUrl}`);
  out(`# worker URL:      ${workerUrl}`);
  out('# build and deploy both services (add _OPERATOR_EMAILS=you@example.com to allow your ID token on the operator endpoints):');
  out(
    shellLine([
      'gcloud',
      'builds',
      'submit',
      '--config=cloudbuild.yaml',
      `--gcs-source-staging-dir=gs://${buildBucket}/source`,
      `--substitutions=_REGION=${region},_LOCATION=${location.bigquery},_SUFFIX=${values.suffix},_FIRESTORE_DATABASE=${database},_COORDINATOR_URL=${coordinatorUrl},_WORKER_URL=${workerUrl}`,
      '--project',
      projectId,
    ]),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`setup-gcp: ${errorMessage(err)}\n`);
  process.exit(1);
});
