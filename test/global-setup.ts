/**
 * Once per `vitest run` (not with `--mode fast`: vitest.config.ts), before any file:
 *  - the production build: `tsconfig.build.json` compiled into a temporary `dist/` (bin/, services/, shared/) by the
 *    compiler `npm run build` uses (TypeScript 7, the `@typescript/native` alias in package.json), type-checking what it
 *    compiles as `npm run build` does: a type error fails the run before any test (`npm run check`, beside it,
 *    type-checks the whole tree, tests included, with the same native checker inside oxlint). Tests hard-link it
 *    (`buildDist` in test/helpers/service-process.ts) instead of compiling again;
 *  - Google's Pub/Sub and Firestore emulators (test/helpers/gcloud-emulators.ts), shared by every file: each file uses
 *    its own project id (Pub/Sub topics and Firestore documents are per project) and its own Firestore root. Without
 *    `gcloud` on PATH they are not started and the emulator tests skip with a message.
 * Both are started side by side (the build is CPU, the emulators mostly wait for a JVM). The teardown stops the emulators
 * and checks they are gone: the harness's stop is tested here, where the emulators it stops are.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { GCLOUD_SKIP_MESSAGE, hasGcloud, startEmulator, type RunningEmulator } from './helpers/gcloud-emulators.js';

const repoRoot = resolve(import.meta.dirname, '..');

declare module 'vitest' {
  export interface ProvidedContext {
    /** The compiled production code: `<buildDir>/dist/{bin,services,shared}`. */
    buildDir: string;
    /** `127.0.0.1:PORT` of the shared emulators, or null without gcloud. */
    pubsubEmulatorHost: string | null;
    firestoreEmulatorHost: string | null;
  }
}

function build(outDir: string): Promise<void> {
  // `tsc` of package.json's scripts: TypeScript 7 (the `typescript` name is TypeScript 6, kept for its JavaScript API).
  const tsc = join(repoRoot, 'node_modules/@typescript/native/bin/tsc');
  const args = [tsc, '-p', join(repoRoot, 'tsconfig.build.json'), '--incremental', 'false', '--outDir', outDir];
  return new Promise((res, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? res() : reject(new Error(`the production build failed (tsc exit ${code}):\n${out.slice(-4000)}`)),
    );
  });
}

const answers = (host: string): Promise<boolean> =>
  fetch(`http://${host}/`, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => r.ok,
    () => false,
  );

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const buildDir = mkdtempSync(join(tmpdir(), 'nba-test-build-'));
  const gcloud = hasGcloud();
  if (!gcloud) console.warn(GCLOUD_SKIP_MESSAGE);
  let emulators: RunningEmulator[] = [];
  const starting = gcloud ? Promise.allSettled([startEmulator('pubsub'), startEmulator('firestore')]) : Promise.resolve([]);
  const built = build(join(buildDir, 'dist'));
  const [started, buildResult] = await Promise.all([
    starting,
    built.then(
      () => null,
      (err: unknown) => err,
    ),
  ]);
  emulators = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  if (failed.length > 0 || buildResult !== null) {
    await Promise.all(emulators.map((e) => e.stop()));
    rmSync(buildDir, { recursive: true, force: true });
    throw failed[0] ?? buildResult;
  }
  const [pubsub, firestore] = emulators;
  project.provide('buildDir', buildDir);
  project.provide('pubsubEmulatorHost', pubsub?.host ?? null);
  project.provide('firestoreEmulatorHost', firestore?.host ?? null);

  return async () => {
    await Promise.all(emulators.map((e) => e.stop()));
    rmSync(buildDir, { recursive: true, force: true });
    const stillAnswering = [];
    for (const e of emulators) if (await answers(e.host)) stillAnswering.push(`${e.kind} on ${e.host}`);
    if (stillAnswering.length > 0) throw new Error(`emulators still answer after stop(): ${stillAnswering.join(', ')}`);
  };
}
