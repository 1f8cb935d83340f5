/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and prints where the main thread's time went: self and inclusive time by
 * function and by file (node_modules grouped by package), as milliseconds and shares of the sampled time.
 *
 *   node dist/bin/bench/cpu-profile.js PROFILE.cpuprofile [--top N] [--match TEXT]
 *
 * Inclusive time counts a sample once per function (or file) on its stack, so recursion is not counted twice. `--match`
 * lists only rows whose name contains TEXT (e.g. a file). `--callers TEXT`: for the samples with a function matching TEXT
 * on their stack, the time by the nearest project function above it (what called into it).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A file's short name: the package for node_modules, the path below dist/ for the project, node: internals as they are. */
function fileOf(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `npm:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? '')}`;
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url.replace(/^file:\/\//, '');
}

function functionOf(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  return f.url === '' ? name : `${name} ${fileOf(f.url)}:${f.lineNumber + 1}`;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  callers: Map<string, { self: number; total: number }>;
  byFunction: Map<string, { self: number; total: number }>;
  byFile: Map<string, { self: number; total: number }>;
  /** Inclusive time per requested group (see summarise). */
  byGroup: Map<string, number>;
}

const isProject = (f: CallFrame): boolean => f.url.includes('/dist/') && !f.url.includes('/node_modules/');

/** `groups`: substrings of file keys; a sample counts once for a group when any file on its stack contains it (byGroup). */
export function summarise(profile: CpuProfile, callersOf?: string, groups: readonly string[] = []): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackKeys = new Map<number, { fns: string[]; files: string[] }>();
  const keysOf = (id: number): { fns: string[]; files: string[] } => {
    let k = stackKeys.get(id);
    if (k) return k;
    const fns = new Set<string>();
    const files = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = (byId.get(at) as ProfileNode).callFrame;
      if (f.functionName === '(root)') continue;
      fns.add(functionOf(f));
      files.add(f.url === '' ? `(${f.functionName || 'native'})` : fileOf(f.url));
    }
    k = { fns: [...fns], files: [...files] };
    stackKeys.set(id, k);
    return k;
  };
  const byFunction = new Map<string, { self: number; total: number }>();
  const byFile = new Map<string, { self: number; total: number }>();
  const add = (m: Map<string, { self: number; total: number }>, key: string, ms: number, self: boolean) => {
    const e = m.get(key) ?? { self: 0, total: 0 };
    e.total += ms;
    if (self) e.self += ms;
    m.set(key, e);
  };
  let totalMs = 0;
  let idleMs = 0;
  const callers = new Map<string, { self: number; total: number }>();
  const byGroup = new Map<string, number>();
  /** The nearest project function above the first frame (from the leaf) matching `callersOf`, or null. */
  const callerOf = (id: number): string | null => {
    let matched = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = (byId.get(at) as ProfileNode).callFrame;
      if (!matched) matched = functionOf(f).includes(callersOf as string);
      else if (isProject(f)) return functionOf(f);
    }
    return matched ? '(no project caller)' : null;
  };
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const leaf = (byId.get(id) as ProfileNode).callFrame;
    if (leaf.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    const { fns, files } = keysOf(id);
    const leafFn = functionOf(leaf);
    const leafFile = leaf.url === '' ? `(${leaf.functionName || 'native'})` : fileOf(leaf.url);
    for (const f of fns) add(byFunction, f, ms, f === leafFn);
    for (const f of files) add(byFile, f, ms, f === leafFile);
    for (const g of groups) if (files.some((f) => f.includes(g))) byGroup.set(g, (byGroup.get(g) ?? 0) + ms);
    if (callersOf !== undefined) {
      const c = callerOf(id);
      if (c !== null) add(callers, c, ms, false);
    }
  });
  return { totalMs, idleMs, byFunction, byFile, callers, byGroup };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '30' }, match: { type: 'string' }, callers: { type: 'string' } },
  });
  const path = positionals[0];
  if (!path) throw new Error('usage: cpu-profile PROFILE.cpuprofile [--top N] [--match TEXT] [--callers TEXT]');
  const top = Number(values.top);
  const s = summarise(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, values.callers);
  const busy = s.totalMs - s.idleMs;
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1)}%`.padStart(6);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `sampled ${(s.totalMs / 1000).toFixed(1)} s, idle ${(s.idleMs / 1000).toFixed(1)} s, busy ${(busy / 1000).toFixed(1)} s (${((100 * busy) / s.totalMs).toFixed(0)}%); shares below are of busy time`,
  );
  function table(title: string, m: Map<string, { self: number; total: number }>, key: 'self' | 'total'): void {
    out(`\n${title}`);
    const rows = [...m.entries()]
      .filter(([k]) => values.match === undefined || k.includes(values.match))
      .sort((a, b) => b[1][key] - a[1][key]);
    for (const [k, v] of rows.slice(0, top))
      out(
        `${(v.self / 1000).toFixed(2).padStart(8)} s ${pct(v.self)} self  ${(v.total / 1000).toFixed(2).padStart(8)} s ${pct(v.total)} incl  ${k}`,
      );
  }
  if (values.callers !== undefined) {
    table(`callers of '${values.callers}' (nearest project function), inclusive`, s.callers, 'total');
    return;
  }
  table('by file, self', s.byFile, 'self');
  table('by file, inclusive', s.byFile, 'total');
  table('by function, self', s.byFunction, 'self');
  table('by function, inclusive', s.byFunction, 'total');
}

// Run as a command only (the profile benchmark imports summarise).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
