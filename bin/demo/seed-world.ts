/**
 * Seeds a DuckDB warehouse with the demo world and the demo models (the embedded default, design §7).
 *
 * The world holds a window of slate dates [first … last] — by default a season: the last 165 dates before today, today and
 * tomorrow (ET) — after a history of box scores. Every slate date has its games, candidates, lines and feature rows; a date
 * before today is final, with box scores; today and later are scheduled. The demo models are trained once, on the history
 * before the window's first date, so no date of the window is in their training data and running any date never retrains.
 *
 * What a call does, from what the warehouse already holds (the world describes itself: its first slate date is the earliest
 * context row, its history starts at the earliest schedule row):
 * - **present**: every date of the window has its rows and no date before today still waits for its results → nothing is
 *   written (models are checked: files exist with the registered sha256, else only the models are redone).
 * - **extended**: the world starts on or before the requested window but lacks dates at its end, or dates that have since
 *   become past (yesterday's slate is now final) → the world is regenerated from its own first date (deterministic) and only
 *   the rows from the first such date on are replaced; every earlier date is left as it is, and checked to be the same
 *   world (same schedule) before anything is deleted. A run that died half-way is resumed the same way.
 * - **seeded**: no world, one that starts after the requested window, or one generated with other options → the world tables
 *   are cleared and the whole window written, and the models trained.
 * Prediction tables are never touched. Rows are appended in large batches (DuckDB appender, one transaction per table per
 * batch) while the models train on worker threads.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { ALL_TABLES } from '../../shared/contracts/tables.js';
import { param, type Row } from '../../shared/ports/warehouse.js';
import { buildDemoModels, DEMO_MODELS, type DemoModelReport, type RegistryRow } from './demo-models.js';
import { addDays, daysBetween } from './random.js';
import { DEFAULT_HISTORY_DAYS, WORLD_TABLE_IDS, worldDays, type PlayerHistory, type WorldTableId } from './world.js';

/** Past slate dates in the default window (about a regular season's game dates). */
export const DEFAULT_PAST_DAYS = 165;

/** `--days N` of `npm start` and `npm run seed` (`pastDays`): one meaning, one range, one usage line for both. */
export const DAYS_OPTION = {
  min: 0,
  max: 400,
  usage: `  --days N            past slate dates before today (default ${DEFAULT_PAST_DAYS}); the window also has today and tomorrow (ET)`,
} as const;

export interface SeedWorldOptions {
  warehouse: DuckDbWarehouse;
  /** Where the .onnx files go; registry gcs_path is relative to it. */
  modelsDir: string;
  /** YYYY-MM-DD (America/New_York): dates before it are final, it and later dates are scheduled. */
  today: string;
  /** First and last slate date the warehouse must hold (inclusive). Default: seasonWindow(today). */
  from?: string;
  to?: string;
  /** The window as a list of dates: [min … max] (every date between is a slate date too). */
  slateDates?: string[];
  games?: number;
  seed?: number;
  trees?: number;
  /** History days before the window's first date (a fresh seed only; default 120). */
  historyDays?: number;
  /** Candidate players per game, min–max (default 30–35). */
  candidatesPerGame?: readonly [number, number];
  /** Worker threads training the models (default: one per core, at most 4; 0 = in this thread). */
  trainThreads?: number;
  datasetPrefix?: string;
  log?: (line: string) => void;
}

export interface WorldSummary {
  /** 'seeded' (whole world written), 'extended' (dates from `replacedFrom` on written), 'models' (only the models redone) or 'present'. */
  action: 'seeded' | 'extended' | 'models' | 'present';
  /** The slate dates the warehouse now holds. */
  first: string;
  last: string;
  /** The requested window. */
  from: string;
  to: string;
  /** Extended: the first date whose rows were (re)written. */
  replacedFrom: string | null;
  /** Slate dates and slate games in the requested window. */
  dates: number;
  games: number;
  /** Candidates in the requested window: distinct players per date, summed over its dates. */
  candidates: number;
  /** Rows inserted per table id (empty when nothing was inserted). */
  rows: Record<string, number>;
  models: string[];
  modelReports: DemoModelReport[];
  seconds: number;
  /** Where the time went (seconds): generating rows, appending them, training (wall time of the training, overlapped). */
  timings: { generate: number; append: number; train: number };
}

export type EnsureDemoWorldOptions = Omit<SeedWorldOptions, 'modelsDir'> & {
  /** Default: '.local/models'. */
  modelsDir?: string;
  /** Past slate dates of the default window (default 165). */
  pastDays?: number;
  /** A date the run is for: the window is extended to it when it lies after the window. */
  date?: string;
};

const REGISTRY = 'nba_predictions.model_registry';
/** Buffered rows that trigger an append (about 2 weeks of a season): large appends, bounded memory. */
const FLUSH_ROWS = 200_000;
const DATE_COLUMN: Readonly<Record<WorldTableId, string>> = {
  'nba_raw.nbac_schedule': 'game_date',
  'nba_analytics.player_game_summary': 'game_date',
  'nba_analytics.upcoming_player_game_context': 'game_date',
  'nba_raw.odds_api_player_points_props': 'game_date',
  'nba_raw.bettingpros_player_points_props': 'game_date',
  'nba_predictions.ml_feature_store_v2': 'game_date',
  'nba_orchestration.game_postponements': 'original_date',
  'nba_raw.nbac_injury_report': 'game_date',
};
/** Appended last in every batch: a date with context rows has all its other rows (how an interrupted seed is resumed). */
const MARKER_TABLE: WorldTableId = 'nba_analytics.upcoming_player_game_context';

/** The default window: the last `pastDays` dates before today, today and tomorrow. */
export function seasonWindow(today: string, pastDays = DEFAULT_PAST_DAYS): { from: string; to: string } {
  return { from: addDays(today, -pastDays), to: addDays(today, 1) };
}

interface WarehouseWorld {
  /** First and last slate date (context rows), or null when there is no world. */
  first: string | null;
  last: string | null;
  historyStart: string | null;
  slateDates: Set<string>;
  /** Slate dates before today whose games are not final yet. */
  stale: string[];
}

async function readWorld(opts: SeedWorldOptions): Promise<WarehouseWorld> {
  const rows = await opts.warehouse.query({
    name: 'demo.seed.state',
    sql: `SELECT 'slate' AS kind, game_date FROM {{nba_analytics.upcoming_player_game_context}} GROUP BY game_date
      UNION ALL SELECT 'stale' AS kind, game_date FROM {{nba_raw.nbac_schedule}} WHERE game_status <> 3 AND game_date < @today GROUP BY game_date
      UNION ALL SELECT 'history' AS kind, MIN(game_date) AS game_date FROM {{nba_raw.nbac_schedule}}`,
    params: { today: param.date(opts.today) },
    datasetPrefix: opts.datasetPrefix,
  });
  const slate = rows
    .filter((r) => r.kind === 'slate')
    .map((r) => String(r.game_date))
    .sort();
  const history = rows.find((r) => r.kind === 'history')?.game_date;
  return {
    first: slate[0] ?? null,
    last: slate[slate.length - 1] ?? null,
    historyStart: typeof history === 'string' ? history : null,
    slateDates: new Set(slate),
    stale: rows
      .filter((r) => r.kind === 'stale')
      .map((r) => String(r.game_date))
      .sort(),
  };
}

async function windowCounts(
  opts: SeedWorldOptions,
  from: string,
  to: string,
): Promise<{ dates: number; games: number; candidates: number }> {
  const [row] = await opts.warehouse.query({
    name: 'demo.seed.counts',
    sql: `SELECT
      (SELECT COUNT(DISTINCT game_date) FROM {{nba_analytics.upcoming_player_game_context}} WHERE game_date BETWEEN @from AND @to) AS dates,
      (SELECT COUNT(*) FROM {{nba_raw.nbac_schedule}} WHERE game_date BETWEEN @from AND @to) AS games,
      (SELECT COUNT(*) FROM (SELECT DISTINCT game_date, player_lookup FROM {{nba_analytics.upcoming_player_game_context}} WHERE game_date BETWEEN @from AND @to)) AS candidates`,
    params: { from: param.date(from), to: param.date(to) },
    datasetPrefix: opts.datasetPrefix,
  });
  return { dates: Number(row?.dates ?? 0), games: Number(row?.games ?? 0), candidates: Number(row?.candidates ?? 0) };
}

async function modelsPresent(opts: SeedWorldOptions): Promise<boolean> {
  const rows = await opts.warehouse.query({
    name: 'demo.seed.registry',
    sql: `SELECT model_id, gcs_path, sha256_hash FROM {{${REGISTRY}}} WHERE model_id IN UNNEST(@ids)`,
    params: { ids: param.strings(DEMO_MODELS.map((m) => m.modelId)) },
    datasetPrefix: opts.datasetPrefix,
  });
  if (rows.length !== DEMO_MODELS.length) return false;
  for (const r of rows) {
    try {
      const bytes = await readFile(join(opts.modelsDir, String(r.gcs_path)));
      if (createHash('sha256').update(bytes).digest('hex') !== r.sha256_hash) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** The first date of [first, end] whose rows are missing or that has become past without its results; null when none. */
function firstIncomplete(world: WarehouseWorld, end: string): string | null {
  const stale = world.stale.find((d) => d >= (world.first as string)) ?? null;
  for (let d = world.first as string; d <= end; d = addDays(d, 1)) {
    if (stale !== null && d >= stale) return stale;
    if (!world.slateDates.has(d)) return d;
  }
  return stale;
}

const scheduleKey = (r: Row): string =>
  `${String(r.game_id)}|${String(r.game_date)}|${String(r.game_status)}|${String(r.home_team_tricode)}|${String(r.away_team_tricode)}`;

function digest(keys: string[]): string {
  return createHash('sha256').update(keys.sort().join('\n')).digest('hex');
}

async function hasInjuryReports(opts: SeedWorldOptions): Promise<boolean> {
  const [row] = await opts.warehouse.query({
    name: 'demo.seed.injuries',
    sql: 'SELECT COUNT(*) AS n FROM {{nba_raw.nbac_injury_report}}',
    datasetPrefix: opts.datasetPrefix,
  });
  return Number(row?.n ?? 0) > 0;
}

async function storedScheduleDigest(opts: SeedWorldOptions, before: string): Promise<string> {
  const rows = await opts.warehouse.query({
    name: 'demo.seed.fingerprint',
    sql: `SELECT game_id, game_date, game_status, home_team_tricode, away_team_tricode FROM {{nba_raw.nbac_schedule}} WHERE game_date < @before`,
    params: { before: param.date(before) },
    datasetPrefix: opts.datasetPrefix,
  });
  return digest(rows.map(scheduleKey));
}

/** Deletes the demo world's rows: all of them, or those dated `from` and later (the registry is replaced by writeRegistry). */
async function clearWorld(opts: SeedWorldOptions, from: string | null): Promise<void> {
  const statements = WORLD_TABLE_IDS.map((id) => ({
    name: `demo.seed.clear.${id}`,
    sql: from === null ? `DELETE FROM {{${id}}} WHERE TRUE` : `DELETE FROM {{${id}}} WHERE ${DATE_COLUMN[id]} >= @from`,
    ...(from === null ? {} : { params: { from: param.date(from) } }),
    datasetPrefix: opts.datasetPrefix,
  }));
  await opts.warehouse.transaction('demo.seed.clear', statements);
}

async function writeRegistry(opts: SeedWorldOptions, registry: RegistryRow[]): Promise<void> {
  await opts.warehouse.transaction('demo.seed.clear.registry', [
    {
      name: 'demo.seed.clear.registry',
      sql: `DELETE FROM {{${REGISTRY}}} WHERE model_id IN UNNEST(@ids)`,
      params: { ids: param.strings(DEMO_MODELS.map((m) => m.modelId)) },
      datasetPrefix: opts.datasetPrefix,
    },
  ]);
  await opts.warehouse.insert({ name: 'demo.seed.registry', table: REGISTRY, rows: registry, datasetPrefix: opts.datasetPrefix });
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

export async function seedWorld(opts: SeedWorldOptions): Promise<WorldSummary> {
  const t0 = performance.now();
  const log = opts.log ?? ((): void => {});
  const { warehouse, datasetPrefix } = opts;
  const window = windowOf(opts);
  await warehouse.ensureTables(ALL_TABLES, datasetPrefix);
  const world = await readWorld(opts);
  const summary: WorldSummary = {
    action: 'present',
    first: window.from,
    last: window.to,
    from: window.from,
    to: window.to,
    replacedFrom: null,
    dates: 0,
    games: 0,
    candidates: 0,
    rows: {},
    models: DEMO_MODELS.map((m) => m.modelId),
    modelReports: [],
    seconds: 0,
    timings: { generate: 0, append: 0, train: 0 },
  };

  // What to write: nothing, the dates from `replaceFrom` on (regenerated from the world's own first date), or everything.
  let plan:
    | { kind: 'present' }
    | { kind: 'extend'; first: string; end: string; historyDays: number; replaceFrom: string }
    | { kind: 'fresh'; reason: string };
  if (world.first === null || world.historyStart === null) plan = { kind: 'fresh', reason: 'no demo world yet' };
  else if (world.first > window.from) plan = { kind: 'fresh', reason: `the demo world starts on ${world.first}, after ${window.from}` };
  else if (!(await hasInjuryReports(opts)))
    plan = { kind: 'fresh', reason: 'the demo world has no injury reports (an earlier version made it)' };
  else {
    const end = [window.to, world.last as string].sort()[1] as string;
    const replaceFrom = firstIncomplete(world, end);
    plan =
      replaceFrom === null
        ? { kind: 'present' }
        : { kind: 'extend', first: world.first, end, historyDays: daysBetween(world.historyStart, world.first), replaceFrom };
  }

  if (plan.kind === 'present') {
    summary.first = world.first as string;
    summary.last = world.last as string;
    Object.assign(summary, await windowCounts(opts, window.from, window.to));
    if (await modelsPresent(opts)) {
      summary.seconds = seconds(t0);
      log(
        `demo world already present: ${summary.first} … ${summary.last} (requested ${window.from} … ${window.to}: ${summary.dates} dates, ${summary.games} games, ${summary.candidates} candidates); models verified in ${summary.seconds.toFixed(2)} s`,
      );
      return summary;
    }
    log("demo models missing or changed: retraining them on the world's history (the world itself is kept)");
    const historyDays = daysBetween(world.historyStart as string, world.first as string);
    const history = historyBefore({ ...opts, from: world.first as string, to: world.first as string }, historyDays);
    await trainAndRegister(opts, history, world.first as string, summary, log);
    summary.action = 'models';
    summary.seconds = seconds(t0);
    return summary;
  }

  if (plan.kind === 'extend') {
    const done = await writeWorld(
      opts,
      { first: plan.first, end: plan.end, historyDays: plan.historyDays, replaceFrom: plan.replaceFrom },
      summary,
      log,
    );
    if (done) {
      summary.action = 'extended';
      summary.first = plan.first;
      summary.last = plan.end;
      summary.replacedFrom = plan.replaceFrom;
    } else {
      plan = {
        kind: 'fresh',
        reason: 'the demo world in the warehouse was generated with other options (seed, games or candidates per game)',
      };
    }
  }
  if (plan.kind === 'fresh') {
    log(`seeding the demo world ${window.from} … ${window.to} (${plan.reason}); prediction tables are kept`);
    await writeWorld(
      opts,
      { first: window.from, end: window.to, historyDays: opts.historyDays ?? DEFAULT_HISTORY_DAYS, replaceFrom: null },
      summary,
      log,
    );
    summary.action = 'seeded';
    summary.first = window.from;
    summary.last = window.to;
  }
  Object.assign(summary, await windowCounts(opts, window.from, window.to));
  summary.seconds = seconds(t0);
  const inserted = Object.values(summary.rows).reduce((a, b) => a + b, 0);
  log(
    `demo world ${summary.action} ${summary.first} … ${summary.last}${summary.replacedFrom ? ` (dates from ${summary.replacedFrom} written)` : ''}: ` +
      `${summary.dates} dates, ${summary.games} games, ${summary.candidates} candidates in ${window.from} … ${window.to}; ${inserted} rows; ` +
      `${summary.seconds.toFixed(1)} s (generate ${summary.timings.generate.toFixed(1)} s, append ${summary.timings.append.toFixed(1)} s, training ${summary.timings.train.toFixed(1)} s alongside)`,
  );
  return summary;
}

function windowOf(opts: SeedWorldOptions): { from: string; to: string } {
  let from = opts.from;
  let to = opts.to;
  if (opts.slateDates && opts.slateDates.length > 0) {
    const sorted = [...opts.slateDates].sort();
    from = sorted[0];
    to = sorted[sorted.length - 1];
  }
  const def = seasonWindow(opts.today);
  const w = { from: from ?? def.from, to: to ?? def.to };
  if (w.from > w.to) throw new Error(`seedWorld: the window's first date ${w.from} is after its last ${w.to}`);
  return w;
}

const slateDatesOf = (first: string, end: string): string[] => {
  const dates: string[] = [];
  for (let d = first; d <= end; d = addDays(d, 1)) dates.push(d);
  return dates;
};

/** The players' history before `opts.from` (for training), generated without the rest of the world. */
function historyBefore(opts: SeedWorldOptions & { from: string; to: string }, historyDays: number): PlayerHistory[] {
  for (const event of worldDays({ ...worldOptions(opts), slateDates: [opts.from], historyDays, lightBefore: opts.from })) {
    if (event.kind === 'window-start') return event.history;
  }
  throw new Error('demo world: no window start');
}

function worldOptions(opts: SeedWorldOptions): {
  today: string;
  games?: number;
  seed?: number;
  candidatesPerGame?: readonly [number, number];
} {
  return {
    today: opts.today,
    ...(opts.games === undefined ? {} : { games: opts.games }),
    ...(opts.seed === undefined ? {} : { seed: opts.seed }),
    ...(opts.candidatesPerGame === undefined ? {} : { candidatesPerGame: opts.candidatesPerGame }),
  };
}

async function trainAndRegister(
  opts: SeedWorldOptions,
  history: PlayerHistory[],
  trainBefore: string,
  summary: WorldSummary,
  log: (line: string) => void,
): Promise<void> {
  const t0 = performance.now();
  const registry = await buildDemoModels({
    world: { history, trainBefore },
    modelsDir: opts.modelsDir,
    trees: opts.trees,
    threads: opts.trainThreads,
    createdAt: `${opts.today}T00:00:00.000Z`,
    log,
    onReport: (r) => summary.modelReports.push(r),
  });
  await writeRegistry(opts, registry);
  summary.rows[REGISTRY] = registry.length;
  summary.timings.train = seconds(t0);
}

/**
 * Generates the world [first … end] and appends its rows: every date (replaceFrom null: the tables are cleared first), or the
 * dates from replaceFrom on, after checking that the earlier dates in the warehouse are this world's (false when not: nothing
 * was written). Trains the models from the window's start when they are missing.
 */
async function writeWorld(
  opts: SeedWorldOptions,
  w: { first: string; end: string; historyDays: number; replaceFrom: string | null },
  summary: WorldSummary,
  log: (line: string) => void,
): Promise<boolean> {
  const needModels = w.replaceFrom === null || !(await modelsPresent(opts));
  // DuckDB checkpoints (compresses the data into the file) whenever its log passes 16 MB: during a bulk load that redoes
  // work batch after batch. Checkpointing once, at the end, costs about 30 % less CPU and leaves a smaller file.
  const setting = (name: string, sql: string) => opts.warehouse.query({ name: `demo.seed.${name}`, sql });
  await setting('defer-checkpoint', "SET checkpoint_threshold = '4GB'");
  try {
    return await writeRows(opts, w, summary, log, needModels);
  } finally {
    await setting('restore-checkpoint', 'RESET checkpoint_threshold');
    await setting('checkpoint', 'CHECKPOINT');
  }
}

async function writeRows(
  opts: SeedWorldOptions,
  w: { first: string; end: string; historyDays: number; replaceFrom: string | null },
  summary: WorldSummary,
  log: (line: string) => void,
  needModels: boolean,
): Promise<boolean> {
  if (w.replaceFrom === null) await clearWorld(opts, null);
  const buffers = Object.fromEntries(WORLD_TABLE_IDS.map((id) => [id, [] as Row[]])) as Record<WorldTableId, Row[]>;
  let buffered = 0;
  // A holder, not a `let`: training is assigned inside startTraining, which control-flow narrowing does not see, so a
  // `let training = null` reads as always null where it is awaited below.
  const run: { training: Promise<void> | null } = { training: null };
  let trainFrom: { history: PlayerHistory[]; date: string } | null = null;
  // Training runs on worker threads while this thread goes on generating and appending; it starts once the rows about to
  // be written are known to belong to this world.
  const startTraining = (): void => {
    if (trainFrom === null || run.training !== null) return;
    run.training = trainAndRegister(opts, trainFrom.history, trainFrom.date, summary, log);
    run.training.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  };
  const flush = async (): Promise<void> => {
    const t1 = performance.now();
    // The marker table goes last: a date with context rows has every other row.
    for (const id of [...WORLD_TABLE_IDS.filter((t) => t !== MARKER_TABLE), MARKER_TABLE]) {
      const rows = buffers[id];
      if (rows.length === 0) continue;
      await opts.warehouse.insert({ name: `demo.seed.${id}`, table: id, rows, datasetPrefix: opts.datasetPrefix });
      summary.rows[id] = (summary.rows[id] ?? 0) + rows.length;
      buffers[id] = [];
    }
    buffered = 0;
    summary.timings.append += seconds(t1);
  };

  let checked = w.replaceFrom === null;
  const before: string[] = [];
  let t1 = performance.now();
  const days = worldDays({
    ...worldOptions(opts),
    slateDates: slateDatesOf(w.first, w.end),
    historyDays: w.historyDays,
    ...(w.replaceFrom === null ? {} : { lightBefore: w.replaceFrom }),
  });
  for (const event of days) {
    if (event.kind === 'end') break;
    if (event.kind === 'window-start') {
      if (needModels) trainFrom = { history: event.history, date: event.date };
      if (checked) startTraining();
      continue;
    }
    if (!checked) {
      if (event.date < (w.replaceFrom as string)) {
        for (const r of event.tables['nba_raw.nbac_schedule']) before.push(scheduleKey(r));
        continue;
      }
      summary.timings.generate += seconds(t1);
      if (digest(before) !== (await storedScheduleDigest(opts, w.replaceFrom as string))) return false;
      await clearWorld(opts, w.replaceFrom);
      checked = true;
      startTraining();
      t1 = performance.now();
    }
    for (const id of WORLD_TABLE_IDS) {
      const rows = event.tables[id];
      if (rows.length === 0) continue;
      const buffer = buffers[id];
      for (const row of rows) buffer.push(row);
      buffered += rows.length;
    }
    if (buffered >= FLUSH_ROWS) {
      summary.timings.generate += seconds(t1);
      await flush();
      t1 = performance.now();
    }
  }
  summary.timings.generate += seconds(t1);
  await flush();
  if (run.training) {
    log('waiting for the demo models to finish training');
    await run.training;
  }
  return true;
}

/**
 * seedWorld with the local stack's defaults: the season window (the last 165 dates, today and tomorrow), models in
 * .local/models. A `date` after the window extends it to that date; a date before it is left to /start (it has no slate).
 */
export async function ensureDemoWorld(opts: EnsureDemoWorldOptions): Promise<WorldSummary> {
  const def = seasonWindow(opts.today, opts.pastDays);
  const from = opts.from ?? def.from;
  let to = opts.to ?? def.to;
  if (opts.date !== undefined && opts.date > to) to = opts.date;
  if (opts.date !== undefined && opts.date < from) {
    opts.log?.(`${opts.date} is before the demo world's window (${from} … ${to}): it has no slate to predict`);
  }
  return seedWorld({ ...opts, from, to, modelsDir: opts.modelsDir ?? join('.local', 'models') });
}
