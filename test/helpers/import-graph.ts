/**
 * What a service's code can load: every source file reachable from its main.ts through relative imports (static and
 * dynamic), compiled to JavaScript as tsc compiles it under `isolatedModules` (type-only imports, and imports used only as
 * types, gone) and without its comments, with the packages those files import.
 * Used to check the images' dependency lists and the setup's BigQuery grants against the code itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseSync } from 'oxc-parser';
import { transformSync } from 'oxc-transform';
import { ALL_TABLES, tableId } from '../../shared/contracts/tables.js';

const KNOWN_TABLES = new Set(ALL_TABLES.map(tableId));

export const repoRoot = resolve(import.meta.dirname, '../..');

export interface ModuleFile {
  /** Repo-relative path of the .ts source. */
  path: string;
  /** The emitted JavaScript (no comments, no type-only imports). */
  js: string;
}

export interface ImportGraph {
  files: ModuleFile[];
  /** Package name → how it is loaded: `static` if any reachable file imports it at load time, else `dynamic`. */
  packages: Map<string, 'static' | 'dynamic'>;
}

/** Static imports and re-exports (1), dynamic imports (2), and `createRequire(import.meta.url)('pkg')` at load time (3). */
const IMPORT =
  /(?:^|[;\s])(?:import|export)\s*(?:[^'"();]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|createRequire\([^)]*\)\(\s*['"]([^'"]+)['"]\s*\)/g;

const packageOf = (spec: string): string => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string));

interface Parsed {
  js: string;
  imports: Array<{ spec: string; dynamic: boolean }>;
}

/** `js` without its comments (the offsets oxc-parser gives are the string's own, UTF-16). */
function withoutComments(file: string, js: string): string {
  const { comments, errors } = parseSync(file.replace(/\.ts$/, '.js'), js);
  if (errors.length > 0) throw new Error(`${relative(repoRoot, file)}: ${errors.map((e) => e.message).join('; ')}`);
  let out = '';
  let at = 0;
  for (const c of comments) {
    out += js.slice(at, c.start);
    at = c.end;
  }
  return out + js.slice(at);
}

/**
 * Each source file compiled once per process, whichever graph reaches it (the sources do not change during a run). The
 * compiler is oxc's TypeScript transform, which drops type-only imports and imports used only as types, as tsc does
 * under `isolatedModules` (the project's setting); it takes ≈ 1.5 ms a file where TypeScript's `transpileModule` took
 * ≈ 13–30 (≈ 4.5 CPU-s for the two services' graphs, in every test worker that builds one).
 */
const parsed = new Map<string, Parsed>();
const parse = (file: string): Parsed => {
  const cached = parsed.get(file);
  if (cached) return cached;
  const compiled = transformSync(file, readFileSync(file, 'utf8'), { lang: 'ts', sourceType: 'module' });
  if (compiled.errors.length > 0) throw new Error(`${relative(repoRoot, file)}: ${compiled.errors.map((e) => e.message).join('; ')}`);
  const js = withoutComments(file, compiled.code);
  const imports = [...js.matchAll(IMPORT)].map((m) => ({ spec: (m[1] ?? m[2] ?? m[3]) as string, dynamic: m[2] !== undefined }));
  const result = { js, imports };
  parsed.set(file, result);
  return result;
};

const graphs = new Map<string, ImportGraph>();

/** The graph from `entry` (repo-relative), built once per process; callers only read it. */
export function importGraph(entry: string): ImportGraph {
  const known = graphs.get(entry);
  if (known) return known;
  const graph = buildGraph(entry);
  graphs.set(entry, graph);
  return graph;
}

function buildGraph(entry: string): ImportGraph {
  const target = (from: string, spec: string): string => {
    const path = resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
    if (!existsSync(path)) throw new Error(`${relative(repoRoot, from)} imports ${spec}, which is not a .ts file in the repo`);
    return path;
  };
  /** Files reachable from the entry, following static imports only (`staticOnly`) or every import. */
  const reach = (staticOnly: boolean): string[] => {
    const seen = new Set<string>();
    const queue = [resolve(repoRoot, entry)];
    while (queue.length > 0) {
      const file = queue.shift() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const imp of parse(file).imports)
        if (imp.spec.startsWith('.') && !(staticOnly && imp.dynamic)) queue.push(target(file, imp.spec));
    }
    return [...seen];
  };
  const loadedAtBoot = new Set(reach(true));
  const all = reach(false);
  const packages = new Map<string, 'static' | 'dynamic'>();
  for (const file of all) {
    for (const imp of parse(file).imports) {
      if (imp.spec.startsWith('.') || imp.spec.startsWith('node:')) continue;
      const name = packageOf(imp.spec);
      if (loadedAtBoot.has(file) && !imp.dynamic) packages.set(name, 'static');
      else if (!packages.has(name)) packages.set(name, 'dynamic');
    }
  }
  return { files: all.map((f) => ({ path: relative(repoRoot, f), js: parse(f).js })), packages };
}

export const serviceEntry = (service: 'coordinator' | 'worker'): string => join('services', service, 'main.ts');

export interface TableUse {
  read: Set<string>;
  write: Set<string>;
}

/** The `dataset.table`s a service's SQL and inserts touch: written by INSERT/MERGE/UPDATE/DELETE or insert(), read otherwise. */
export function tablesUsed(graph: ImportGraph): TableUse {
  const use: TableUse = { read: new Set(), write: new Set() };
  for (const f of graph.files) {
    for (const m of f.js.matchAll(/(INSERT\s+INTO|MERGE\s+INTO|UPDATE|DELETE\s+FROM)?\s*\{\{\s*([a-z_0-9]+\.[a-z_0-9]+)\s*\}\}/gi)) {
      (m[1] ? use.write : use.read).add(m[2] as string);
    }
    for (const m of f.js.matchAll(/\.insert\(\s*\{[^}]*?table:\s*['"]([a-z_0-9]+\.[a-z_0-9]+)['"]/g)) use.write.add(m[1] as string);
    // A table named in a constant and inserted elsewhere (run-record.ts): `table: 'x.y'` inside an insert request object.
    for (const m of f.js.matchAll(/\btable:\s*['"]([a-z_0-9]+\.[a-z_0-9]+)['"]/g)) use.write.add(m[1] as string);
  }
  for (const t of use.write) use.read.delete(t);
  // Only the project's tables: message text such as "{{dataset.table}}" in an error string is not a table.
  for (const set of [use.read, use.write]) for (const t of set) if (!KNOWN_TABLES.has(t)) set.delete(t);
  return use;
}
