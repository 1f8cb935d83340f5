/**
 * The embedded default as two real processes, for the crash and drain tests: the coordinator (`node
 * dist/services/coordinator/main.js`, hosting the DuckDB file, the durable local bus and the batch store) and the worker
 * (`node dist/services/worker/main.js`, reaching them through the coordinator's embedded host). Each keeps its loopback
 * port across restarts — the other process was configured with it — so a test can SIGKILL or SIGTERM either and start it
 * again. What the test observes goes through the interfaces an operator has: the coordinator's HTTP API, and the
 * warehouse file's tables read through the embedded host (DuckDB lets one process open the file, so the test cannot open
 * it beside the coordinator).
 *
 * Optionally a proxy stands between the coordinator's bus and the worker (`WORKER_URL` points at it): a test decides, per
 * pushed request message, to forward it, to forward it late, or to answer a status of its own (a worker that fails).
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootService, buildDist, repoRoot, type ServiceProcess } from './service-process.js';
import { freePort } from './free-port.js';
import { copySlate } from './predict-cli.js';
import { createTinyWorld, type TinyWorld } from './tiny-world.js';
import { EMBEDDED_PATH } from '../../shared/embedded/embedded-host.js';
import { TOPICS } from '../../shared/contracts/messages.js';
import type { BatchStatus } from '../../shared/contracts/status.js';
import type { QueryParam, Row } from '../../shared/ports/warehouse.js';

export const PAIR_API_KEY = 'process-pair-key-0123456789abcdef';

/** A compiled copy of the services (`dist/`) in a temporary directory, with the repo's node_modules linked beside it. */
export function buildServices(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  buildDist(dir);
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** One pushed prediction request, as the proxy sees it. */
export interface PushedRequest {
  batch_id: string;
  players: string[];
  /** 1 for the first push of this message id, 2 for its first redelivery, … */
  attempt: number;
}

/** What the proxy does with one push: forward it (optionally once `after` settles) or answer `status` itself. */
export type ProxyAction = { forward: true; after?: Promise<unknown> } | { status: number };

export interface PairOptions {
  /** Directory from buildServices (one build serves every pair of a test file). */
  dir: string;
  /** The first date gets the tiny world's slate; each further date a copy of it. */
  dates: string[];
  players: number;
  models?: number;
  playersPerGame?: number;
  /** Environment of every coordinator start (on top of the pair's own). */
  coordinatorEnv?: Record<string, string>;
  /** Put a proxy between the bus and the worker, deciding each push. */
  proxy?: (push: PushedRequest) => ProxyAction;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ProcessPair {
  coordinator: ServiceProcess | null = null;
  worker: ServiceProcess | null = null;
  /** Every process this pair started (a test reads an earlier one's logs; cleanup kills what is left). */
  readonly started: ServiceProcess[] = [];
  private proxyServer: Server | null = null;

  private constructor(
    readonly opts: PairOptions,
    readonly db: string,
    readonly world: Pick<TinyWorld, 'modelsDir' | 'players' | 'systems'>,
    readonly coordinatorPort: number,
    readonly workerPort: number,
  ) {}

  static async create(opts: PairOptions): Promise<ProcessPair> {
    const db = join(mkdtempSync(join(opts.dir, 'state-')), 'warehouse.duckdb');
    const [first, ...rest] = opts.dates;
    const world = await createTinyWorld({
      gameDate: first as string,
      players: opts.players,
      models: opts.models ?? 2,
      ...(opts.playersPerGame ? { playersPerGame: opts.playersPerGame } : {}),
      path: db,
    });
    if (rest.length > 0) await copySlate(world, first as string, rest);
    await world.warehouse.close();
    const pair = new ProcessPair(
      opts,
      db,
      { modelsDir: world.modelsDir, players: world.players, systems: world.systems },
      await freePort(),
      await freePort(),
    );
    if (opts.proxy) await pair.startProxy(opts.proxy);
    return pair;
  }

  get coordinatorUrl(): string {
    return `http://127.0.0.1:${this.coordinatorPort}`;
  }

  get workerUrl(): string {
    return `http://127.0.0.1:${this.workerPort}`;
  }

  /** Starts the coordinator on its port (its bus pushes requests to the worker, or to the proxy in front of it). */
  async startCoordinator(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const workerUrl = this.proxyServer ? `http://127.0.0.1:${(this.proxyServer.address() as AddressInfo).port}` : this.workerUrl;
    const c = await bootService(
      this.opts.dir,
      'coordinator',
      {
        DUCKDB_PATH: this.db,
        WORKER_URL: workerUrl,
        COORDINATOR_API_KEY: PAIR_API_KEY,
        LOCAL_BUS_MIN_BACKOFF_MS: '20',
        LOCAL_BUS_MAX_BACKOFF_MS: '400',
        ...this.opts.coordinatorEnv,
        ...env,
      },
      { port: this.coordinatorPort },
    );
    this.coordinator = c;
    this.started.push(c);
    return c;
  }

  async startWorker(env: Record<string, string> = {}, onOutput?: (text: string) => void): Promise<ServiceProcess> {
    const w = await bootService(
      this.opts.dir,
      'worker',
      { EMBEDDED_HOST_URL: this.coordinatorUrl, MODEL_STORE_ROOT: this.world.modelsDir, ...env },
      { port: this.workerPort, ...(onOutput ? { onOutput } : {}) },
    );
    this.worker = w;
    this.started.push(w);
    return w;
  }

  /** An operator call to the coordinator (API key), JSON in and out. */
  async api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.coordinatorUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-api-key': PAIR_API_KEY },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async status(batchId: string, players = false): Promise<BatchStatus> {
    const res = await this.api('GET', `/status?batch_id=${batchId}${players ? '&players=true' : ''}`);
    if (res.status !== 200) throw new Error(`/status for ${batchId} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as unknown as BatchStatus;
  }

  /** A query on the warehouse file, through the coordinator's embedded host (the way the worker reads it). */
  async sql(sql: string, params: Record<string, QueryParam> = {}): Promise<Row[]> {
    const res = await fetch(`${this.coordinatorUrl}${EMBEDDED_PATH}/warehouse/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'test.observe', sql, params }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { rows?: Row[] };
    if (res.status !== 200 || !body.rows) throw new Error(`embedded query answered ${res.status}: ${JSON.stringify(body)}`);
    return body.rows;
  }

  /** Phase-5 messages of a batch, as the local bus stored them (its topic has no subscriber, so the table is the record). */
  async phase5(batchId: string): Promise<Array<Record<string, unknown>>> {
    const rows = await this.sql(`SELECT data FROM embedded_state.bus_messages WHERE topic = @topic ORDER BY message_number`, {
      topic: { type: 'STRING', value: TOPICS.phase5Complete },
    });
    return rows.map((r) => JSON.parse(String(r.data)) as Record<string, unknown>).filter((m) => m.execution_id === batchId);
  }

  async runHistory(batchId: string): Promise<Row[]> {
    return this.sql(`SELECT run_id, status FROM {{nba_reference.processor_run_history}} WHERE run_id = @b`, {
      b: { type: 'STRING', value: batchId },
    });
  }

  /** Prediction rows of a date (active and inactive), keyed for counting. */
  async predictions(gameDate: string): Promise<Row[]> {
    return this.sql(
      `SELECT prediction_id, batch_id, player_lookup, system_id, current_points_line, is_active FROM {{nba_predictions.player_prop_predictions}} WHERE game_date = CAST(@d AS DATE)`,
      { d: { type: 'STRING', value: gameDate } },
    );
  }

  async stagingRows(batchId: string): Promise<number> {
    const [row] = await this.sql(`SELECT COUNT(*) AS n FROM {{nba_predictions.prediction_staging}} WHERE batch_id = @b`, {
      b: { type: 'STRING', value: batchId },
    });
    return Number(row?.n ?? 0);
  }

  /** Request deliveries the bus still has to make (pending in its store). */
  async pendingRequests(): Promise<number> {
    const [row] = await this.sql(`SELECT COUNT(*) AS n FROM embedded_state.bus_deliveries WHERE subscription = @s AND state = 'pending'`, {
      s: { type: 'STRING', value: `${TOPICS.predictionRequest}-push` },
    });
    return Number(row?.n ?? 0);
  }

  /** Polls `check` until it returns a value (not undefined); throws with `what` and the last value after `timeoutMs`. */
  async until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (err) {
        last = err instanceof Error ? err.message : err;
      }
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})\n--- coordinator ---\n${tail(this.coordinator)}\n--- worker ---\n${tail(this.worker)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The batch once it is closed (ended, phase-5 message published, run-history row written). */
  async waitClosed(batchId: string, timeoutMs = 60_000): Promise<BatchStatus> {
    let seen: BatchStatus | null = null;
    try {
      return await this.until(
        `batch ${batchId} to close`,
        async () => {
          seen = await this.status(batchId);
          return seen.closed ? seen : undefined;
        },
        timeoutMs,
      );
    } catch (err) {
      const s = seen as BatchStatus | null;
      throw new Error(
        `${err instanceof Error ? err.message : String(err)}\n--- last status ---\n${JSON.stringify(s ? { status: s.status, progress: s.progress, consolidation: s.consolidation, closing: s.closing, error: s.error } : null)}`,
        { cause: err },
      );
    }
  }

  /** The latest batch of a date (a /start the coordinator died in never answered with its id). */
  async latestBatch(gameDate: string): Promise<BatchStatus> {
    const res = await this.api('GET', `/status?game_date=${gameDate}`);
    if (res.status !== 200) throw new Error(`/status?game_date=${gameDate} answered ${res.status}`);
    return res.body as unknown as BatchStatus;
  }

  /** Cleans up whatever a test left: SIGKILL every process still running, close the proxy, delete the files. */
  async cleanup(): Promise<void> {
    await Promise.all(this.started.map((p) => kill(p, 'SIGKILL')));
    if (this.proxyServer) await new Promise((r) => (this.proxyServer as Server).close(r));
    rmSync(join(this.db, '..'), { recursive: true, force: true });
    rmSync(this.world.modelsDir, { recursive: true, force: true });
  }

  private async startProxy(decide: (push: PushedRequest) => ProxyAction): Promise<void> {
    const attempts = new Map<string, number>();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const body = Buffer.concat(chunks);
          let action: ProxyAction = { forward: true };
          try {
            const envelope = JSON.parse(body.toString('utf8')) as { message: { data: string; messageId: string } };
            const data = JSON.parse(Buffer.from(envelope.message.data, 'base64').toString('utf8')) as {
              batch_id: string;
              players: Array<{ player_lookup: string }>;
            };
            const attempt = (attempts.get(envelope.message.messageId) ?? 0) + 1;
            attempts.set(envelope.message.messageId, attempt);
            action = decide({ batch_id: data.batch_id, players: data.players.map((p) => p.player_lookup), attempt });
          } catch {
            // Not a request envelope: forward it as it is.
          }
          if ('status' in action) {
            res
              .writeHead(action.status, { 'content-type': 'application/json' })
              .end(JSON.stringify({ status: 'error', message: 'proxy: failing this request on purpose' }));
            return;
          }
          if (action.after) await action.after;
          try {
            const forwarded = await fetch(`${this.workerUrl}${req.url ?? '/'}`, {
              method: req.method ?? 'POST',
              headers: { 'content-type': 'application/json' },
              body,
              signal: AbortSignal.timeout(60_000),
            });
            res
              .writeHead(forwarded.status, { 'content-type': forwarded.headers.get('content-type') ?? 'application/json' })
              .end(Buffer.from(await forwarded.arrayBuffer()));
          } catch (err) {
            res
              .writeHead(502, { 'content-type': 'application/json' })
              .end(JSON.stringify({ status: 'error', message: `proxy: worker unreachable: ${String(err)}` }));
          }
        })();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.proxyServer = server;
  }
}

/** Resolves with how the process ended; rejects if it is still running after `timeoutMs`. */
export function exited(p: ServiceProcess, timeoutMs: number): Promise<Exit> {
  const child = p.child;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`process ${child.pid} still running after ${timeoutMs} ms:\n${p.logs().slice(-3000)}`)),
      timeoutMs,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/** Sends `signal` (only to a process this harness started, by its pid) and waits for it to end (bounded). */
export async function kill(p: ServiceProcess, signal: NodeJS.Signals, timeoutMs = 15_000): Promise<Exit> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return exited(p, timeoutMs);
}

/** The process's last log lines, without the access log (the test's own polling would fill it). */
const tail = (p: ServiceProcess | null): string =>
  p
    ? p
        .logs()
        .split('\n')
        .filter((l) => !l.includes('"httpRequest"'))
        .slice(-25)
        .join('\n')
    : '(not started)';
