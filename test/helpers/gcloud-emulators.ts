/**
 * Google's Pub/Sub and Firestore emulators for integration tests, from the Google Cloud CLI. Each runs on a free loopback
 * port as a detached process group (gcloud → shell → java), so stopping kills the whole group; startup is bounded and a
 * failure carries the emulator's own output. Tests skip with a message when `gcloud` is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export type EmulatorKind = 'pubsub' | 'firestore';

export interface RunningEmulator {
  kind: EmulatorKind;
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  stop(): Promise<void>;
}

export const GCLOUD_SKIP_MESSAGE = 'gcloud not found: skipping the Pub/Sub/Firestore emulator tests';

const DEFAULT_START_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 4_000;

/** True when a `gcloud` executable is on PATH. */
export function hasGcloud(): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'gcloud'), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Call at the top of an emulator test file: prints why the suite is skipped, returns whether to skip. */
export function skipWithoutGcloud(): boolean {
  const skip = !hasGcloud();
  if (skip) console.warn(GCLOUD_SKIP_MESSAGE);
  return skip;
}

function argsFor(kind: EmulatorKind, host: string, dataDir: string): string[] {
  return kind === 'pubsub'
    ? ['beta', 'emulators', 'pubsub', 'start', `--host-port=${host}`, `--data-dir=${dataDir}`, '--quiet']
    : ['emulators', 'firestore', 'start', `--host-port=${host}`, '--quiet'];
}

/** Both emulators answer `GET /` with 200 "Ok" once they serve. */
async function answers(host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1_000) });
    return res.ok;
  } catch {
    return false;
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
}

/**
 * The emulators' JVM: the client compiler only and the serial collector
 * (https://docs.oracle.com/en/java/javase/17/docs/specs/man/java.html: `-XX:TieredStopAtLevel`, `-XX:+UseSerialGC`).
 * A test run's emulators live a few minutes on two cores shared with everything else: the optimising compiler's and the
 * parallel collector's threads cost more than they return. Measured on the four emulator files run together, twice
 * each way alternating: the emulators took 19.7 and 19.8 CPU-s with the defaults, 13.8 and 14.6 with these, and the
 * files' wall time did not grow (28.3, 27.5 against 24.8, 27.2 s).
 */
const EMULATOR_JVM_OPTIONS = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';

export async function startEmulator(kind: EmulatorKind, opts: { startTimeoutMs?: number } = {}): Promise<RunningEmulator> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), `${kind}-emulator-`));
  const child = spawn('gcloud', argsFor(kind, host, dataDir), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1', JAVA_TOOL_OPTIONS: EMULATOR_JVM_OPTIONS },
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
  child.once('error', (err) => (exited = `failed to spawn: ${err.message}`));
  // If the test process dies without stopping us, take the emulator down with it.
  const onExit = () => child.pid !== undefined && killGroup(child.pid, 'SIGKILL');
  process.once('exit', onExit);

  const cleanup = async () => {
    process.removeListener('exit', onExit);
    await stopGroup(child);
    rmSync(dataDir, { recursive: true, force: true });
  };

  const timeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(host))) {
    if (exited !== null || Date.now() > deadline) {
      const why = exited ?? `did not answer on ${host} within ${timeoutMs} ms`;
      await cleanup();
      throw new Error(`${kind} emulator ${why}. Output:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  let stopping: Promise<void> | undefined;
  return { kind, host, port, stop: () => (stopping ??= cleanup()) };
}
