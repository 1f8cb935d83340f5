/**
 * Leaves in node_modules only what one service loads: after `npm ci --omit=dev` (the exact lockfile), removes every
 * installed package that the service's dependencies (images.ts) do not reach through the lockfile's dependency graph
 * (node's resolution: nearest node_modules first), and onnxruntime's binaries for other platforms.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { arch } from 'node:process';
import { join } from 'node:path';
import { IMAGES, isServiceName } from './images.js';

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  dev?: boolean;
}

/** The lockfile path (`node_modules/a/node_modules/b`) node would load `dep` from, required by the package at `from`. */
function resolveFrom(packages: Record<string, LockEntry>, from: string, dep: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${dep}` : `${dir}/node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up < 0 ? '' : dir.slice(0, up);
  }
}

/** Every lockfile path reachable from `roots` (packages the root package depends on). */
export function reachablePackages(packages: Record<string, LockEntry>, roots: readonly string[]): Set<string> {
  const keep = new Set<string>();
  const queue: string[] = [];
  for (const root of roots) {
    const path = resolveFrom(packages, '', root);
    if (!path) throw new Error(`${root} is not in package-lock.json: add it to package.json dependencies`);
    queue.push(path);
  }
  while (queue.length > 0) {
    const path = queue.pop() as string;
    if (keep.has(path)) continue;
    keep.add(path);
    const entry = packages[path] ?? {};
    for (const deps of [entry.dependencies, entry.optionalDependencies, entry.peerDependencies]) {
      for (const dep of Object.keys(deps ?? {})) {
        const found = resolveFrom(packages, path, dep);
        if (found) queue.push(found);
      }
    }
  }
  return keep;
}

function sizeOf(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

export interface PruneResult {
  kept: string[];
  removed: string[];
  /** Bytes in node_modules before and after. */
  before: number;
  after: number;
}

export function pruneNodeModules(root: string, service: string): PruneResult {
  if (!isServiceName(service)) throw new Error(`unknown service '${service}': expected ${Object.keys(IMAGES).join(' or ')}`);
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packages = lock.packages;
  const before = sizeOf(join(root, 'node_modules'));
  const keep = reachablePackages(packages, IMAGES[service].dependencies);
  const removed: string[] = [];
  // Deepest first, so a nested package is removed before (or with) its parent.
  for (const path of Object.keys(packages)
    .filter((p) => p.startsWith('node_modules/'))
    .sort((a, b) => b.length - a.length)) {
    if (keep.has(path) || !existsSync(join(root, path))) continue;
    rmSync(join(root, path), { recursive: true, force: true });
    removed.push(path);
  }
  // Links to removed packages' executables; nothing in the image runs them.
  rmSync(join(root, 'node_modules/.bin'), { recursive: true, force: true });
  // Empty scope directories (node_modules/@duckdb once its packages are gone).
  for (const name of readdirSync(join(root, 'node_modules'))) {
    const dir = join(root, 'node_modules', name);
    if (name.startsWith('@') && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  }
  // onnxruntime-node ships every platform's binaries (~240 MB); keep this platform's.
  const ort = join(root, 'node_modules/onnxruntime-node/bin/napi-v6');
  if (existsSync(ort)) {
    for (const os of readdirSync(ort)) if (os !== 'linux') rmSync(join(ort, os), { recursive: true, force: true });
    const linux = join(ort, 'linux');
    if (existsSync(linux)) for (const a of readdirSync(linux)) if (a !== arch) rmSync(join(linux, a), { recursive: true, force: true });
  }
  return {
    kept: [...keep].map((p) => p.replace(/^node_modules\//, '')).sort(),
    removed,
    before,
    after: sizeOf(join(root, 'node_modules')),
  };
}
