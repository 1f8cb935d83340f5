/**
 * Every command in the docs runs as written. The `sh` and `sql` blocks of docs/*.md and README.md (test/helpers/doc-blocks.ts)
 * are run, in document order, unless marked `<!-- not-run-locally: why -->`:
 *  - shell blocks in bash against the local stack (coordinator and worker on loopback, DuckDB, a finished batch), with
 *    `predict` and `npm run <script> -- …` running the compiled CLIs; the variables the docs use are set (COORDINATOR_URL,
 *    WORKER_URL, COORDINATOR_API_KEY, BATCH, D, PROJECT, REGION, LOCATION). gcloud and bq are not callable: a block needing them must be
 *    marked. A block fails on a syntax error, on any command that exits 2 (usage), 3 (service error) or 126/127 (not
 *    runnable / not found), and on an HTTP answer curl gets that means the command is wrong (400, 401, 403, 405, 413,
 *    415, 5xx, or a 404 that is not the service's JSON answer: the path does not exist).
 *  - SQL blocks against the embedded DuckDB warehouse with the product's tables (the BigQuery dialect the services use).
 * Outcomes that depend on the data (a batch ending partial, a date without games, 409) are not failures of the docs.
 * The names the docs give Google resources (secret, services, push audience) are checked against the setup plan too,
 * also in blocks that cannot run.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDocBlocks, projectDocs, RUNNABLE, type DocBlock } from '../helpers/doc-blocks.js';
import { buildDist, repoRoot } from '../helpers/service-process.js';
import { API_KEY, startTestStack, waitForBatchEnd, type TestStack } from '../helpers/stack.js';
import { etDate } from '../../shared/dates/game-date.js';
import { systemClock } from '../../shared/ports/clock.js';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { ALL_TABLES } from '../../shared/contracts/tables.js';
import { deployment } from '../../bin/setup/topology.js';

const { blocks, problems } = allDocBlocks(repoRoot);
const runnable = blocks.filter((b) => RUNNABLE.has(b.lang) && b.notRunReason === undefined);
const shellBlocks = runnable.filter((b) => b.lang !== 'sql');
const sqlBlocks = runnable.filter((b) => b.lang === 'sql');
const where = (b: DocBlock) => `${b.file}:${b.line}`;

const BAD_EXIT = (code: number) => code === 2 || code === 3 || code === 126 || code === 127 || code >= 128;
/** 404 with a JSON body is the service saying "no such batch/date/players" (data); without one, the path does not exist. */
const BAD_HTTP = (status: number, contentType: string) =>
  [400, 401, 403, 405, 413, 415].includes(status) || status >= 500 || (status === 404 && !contentType.includes('application/json'));

const work = mkdtempSync(join(tmpdir(), 'docs-commands-'));
// The docs' commands take today from the machine (`predict start`, `date -d yesterday`): so do D and the stack's clock.
const today = etDate(systemClock.now());
let t: TestStack;
let batch = '';

/** `npm run <script> -- args` → the compiled entry the script runs after its build (package.json: `npm run build --silent && node dist/bin/X.js`). */
function npmShim(dist: string): string {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const cases = Object.entries(scripts).flatMap(([name, cmd]) => {
    const m = /^npm run build --silent && node dist\/(bin\/[\w-]+\.js)$/.exec(cmd);
    return m ? [`    ${name}) node "${dist}/${m[1]}" "$@" ;;`] : [];
  });
  return `npm() {
  if [ "$1" != run ] || [ -z "$2" ]; then echo "npm $*: not run by the docs test (mark the block not-run-locally, with why)" >&2; return 127; fi
  local script="$2"; shift 2; [ "$1" = -- ] && shift
  case "$script" in
${cases.join('\n')}
    *) echo "npm run $script: not run by the docs test (mark the block not-run-locally, with why)" >&2; return 127 ;;
  esac
}`;
}

function prelude(dist: string, logs: { exits: string; http: string }): string {
  const env: Record<string, string> = {
    COORDINATOR_URL: t.stack.coordinatorUrl,
    WORKER_URL: t.stack.workerUrl,
    COORDINATOR_API_KEY: API_KEY,
    BATCH: batch,
    D: today,
    PROJECT: 'demo-docs-project',
    REGION: 'us-west2',
    LOCATION: 'US',
  };
  return [
    'set -o pipefail',
    ...Object.entries(env).map(([k, v]) => `export ${k}='${v}'`),
    `exec 3>>'${logs.exits}'`,
    `trap 'echo "$? $BASH_COMMAND" >&3' ERR`,
    `predict() { node "${dist}/bin/predict.js" "$@"; }`,
    npmShim(dist),
    `gcloud() { echo "gcloud is not run by the docs test: mark the block <!-- not-run-locally: why -->" >&2; return 127; }`,
    `bq() { echo "bq is not run by the docs test: mark the block <!-- not-run-locally: why -->" >&2; return 127; }`,
    // Record every HTTP status curl receives (headers to a file; the command's own output is untouched).
    `curl() { local h; h=$(mktemp); command curl -D "$h" "$@"; local rc=$?; local s t; s=$(sed -n '1s/^HTTP\\/[0-9.]* \\([0-9]*\\).*/\\1/p' "$h"); t=$(sed -n 's/^[Cc]ontent-[Tt]ype: *\\([^;[:space:]]*\\).*/\\1/p' "$h" | head -n1); local u; for u in "$@"; do case "$u" in http*) printf '%s %s %s\\n' "$s" "\${t:-none}" "$u" >> '${logs.http}' ;; esac; done; rm -f "$h"; return $rc; }`,
  ].join('\n');
}

function runBash(script: string, cwd: string, timeoutMs: number): Promise<{ output: string; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [script], { cwd, env: { ...process.env, LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      resolve({ output, signal });
    });
  });
}

beforeAll(async () => {
  buildDist(work);
  // The compiled CLIs resolve their packages from the repo's node_modules, as in the repo itself.
  symlinkSync(join(repoRoot, 'node_modules'), join(work, 'node_modules'), 'dir');
  t = await startTestStack({ gameDate: today, players: 6, models: 2 }, { clock: systemClock });
  const started = await t.post('/start', { game_date: today });
  batch = String(started.body.batch_id);
  await waitForBatchEnd(t, batch);
}, 300_000);

afterAll(async () => {
  await t?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('commands in the docs', () => {
  it('every fence names its language, and every marker gives a reason', () => {
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.problem}`)).toEqual([]);
  });

  it('runs the setup dry run, the CLI, curl and SQL blocks (the ones that can run locally are a real share)', () => {
    expect(shellBlocks.length).toBeGreaterThanOrEqual(8);
    expect(sqlBlocks.length).toBeGreaterThanOrEqual(2);
    expect(shellBlocks.some((b) => /npm run setup-gcp -- .*--dry-run/.test(b.code))).toBe(true);
    expect(shellBlocks.some((b) => /^predict /m.test(b.code))).toBe(true);
  });

  it.each(shellBlocks.map((b) => [where(b), b] as const))(
    '%s runs as written',
    async (_where, block) => {
      const dir = mkdtempSync(join(work, 'block-'));
      const logs = { exits: join(dir, 'exits.log'), http: join(dir, 'http.log') };
      writeFileSync(logs.exits, '');
      writeFileSync(logs.http, '');
      writeFileSync(join(dir, 'block.sh'), block.code);
      writeFileSync(join(dir, 'run.sh'), `${prelude(join(work, 'dist'), logs)}\nsource '${join(dir, 'block.sh')}'\n`);
      const syntax = spawnSync('bash', ['-n', join(dir, 'block.sh')], { encoding: 'utf8' });
      expect(syntax.stderr, 'bash -n').toBe('');
      // Asynchronously: the services the block calls run in this process, so its event loop must stay free.
      const r = await runBash(join(dir, 'run.sh'), dir, 540_000);
      const output = r.output.slice(-3000);
      expect(r.signal, `timed out or killed:\n${output}`).toBeNull();
      // A command that could not even start (the CLI shims pointing at nothing) is not a data outcome.
      expect(r.output, 'a command could not be loaded').not.toMatch(/Cannot find module|ERR_MODULE_NOT_FOUND/);
      const failed = readFileSync(logs.exits, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => ({ code: Number(l.split(' ')[0]), command: l.slice(l.indexOf(' ') + 1) }))
        .filter((e) => BAD_EXIT(e.code));
      expect(failed, output).toEqual([]);
      const badHttp = readFileSync(logs.http, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => l.split(' '))
        .map(([status, contentType, url]) => ({ status: Number(status), contentType: contentType ?? '', url }))
        .filter((h) => BAD_HTTP(h.status, h.contentType));
      expect(badHttp, output).toEqual([]);
    },
    600_000,
  );

  it.each(sqlBlocks.map((b) => [where(b), b] as const))('%s runs on the embedded warehouse', async (_where, block) => {
    const warehouse = await DuckDbWarehouse.open({ path: ':memory:' });
    try {
      await warehouse.ensureTables(ALL_TABLES);
      for (const sql of block.code.split(/;\s*(?:\n|$)/).filter((s) => s.trim() !== ''))
        await warehouse.query({ name: `docs ${where(block)}`, sql });
    } finally {
      await warehouse.close();
    }
  });
});

describe('names the docs give Google resources', () => {
  const d = deployment({
    projectId: 'demo-docs-project',
    projectNumber: '1',
    region: 'us-west2',
    location: 'US',
    suffix: '-prod',
    coordinatorUrl: 'https://c',
    workerUrl: 'https://w',
    ddl: [],
    modelBucket: 'm',
    buildBucket: 'b',
    firestoreDatabase: '(default)',
    startSchedule: '0 10 * * *',
    maxDeliveryAttempts: 5,
  });
  const text = projectDocs(repoRoot)
    .map((p) => readFileSync(p, 'utf8'))
    .join('\n');

  it('name only secrets setup creates', () => {
    const used = [
      ...text.matchAll(
        /secrets versions (?:add|disable|access) (?:\S+ --secret=)?([a-z][\w-]*)|--secret=([a-z][\w-]*)|secrets\/([a-z][\w-]*)\/versions/g,
      ),
    ].map((m) => m[1] ?? m[2] ?? m[3]);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(d.secrets.map((s) => s.name)).toContain(name);
  });

  it('name the services the build deploys (with the default suffix)', () => {
    const used = [...text.matchAll(/gcloud run services (?:update|describe|deploy|logs read) ([a-z][\w-]*)/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect([d.services.coordinator.name, d.services.worker.name]).toContain(name);
  });

  it('give push tokens the service URL as audience, never the endpoint', () => {
    const audiences = [...text.matchAll(/--push-auth-token-audience=("?[^\s\\]+)/g)].map((m) => m[1] as string);
    expect(audiences.length).toBeGreaterThan(0);
    for (const a of audiences) expect(a).not.toMatch(/\/(predict|complete)"?$/);
  });
});
