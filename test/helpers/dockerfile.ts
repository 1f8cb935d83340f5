/**
 * Builds a Dockerfile target without Docker, closely enough to run what the image runs: each stage is a directory; FROM
 * another stage starts from a hard-linked copy of it; COPY copies from the build context or another stage; RUN runs with
 * `sh -c` in the stage directory with the stage's ENV; the target's CMD is returned. WORKDIR must be /app (the stage
 * directory stands for it). The `build` stage (npm ci + npm run build) is not run: its directory is given, holding the
 * output of the same `tsc -p tsconfig.build.json` (buildDist) — the caller checks the stage still does only that.
 * With `installedFrom`, `RUN npm ci --omit=dev …` is not run either: npm ci lays out exactly the lockfile's tree, so the
 * production install is that tree minus the packages the lockfile marks dev, and `installedFrom`'s node_modules (which `npm
 * ci` installed from the same lockfile, for this platform) holds every one of them: they are hard-linked from there, each
 * package's installed version checked against the lockfile (materializeProductionInstall). Unpacking the ≈ 470 MB again
 * was ≈ 20 CPU-s of every `npm test` (docs/testing.md → "How long it takes"); CI's own `npm ci` runs the real install.
 * Base images are not emulated: RUN uses this machine's node and npm (the images use node:20, the range package.json's engines states).
 */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';
import { linkTree } from './link-tree.js';

export interface Instruction {
  op: string;
  /** The instruction's text after the keyword, continuation lines joined. */
  args: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!m) throw new Error(`cannot read FROM ${args}`);
      stages.push({ from: m[1] as string, name: m[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${op} before FROM`);
    stage.instructions.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

export interface BuiltTarget {
  dir: string;
  env: Record<string, string>;
  cmd: string[];
  /** Output of every RUN, for diagnostics and measurements. */
  log: string[];
}

export interface EmulateOptions {
  dockerfile: string;
  context: string;
  /** Directory of the `build` stage's /app (holds dist/ from buildDist). */
  buildStageDir: string;
  /** Where stage directories go. */
  workDir: string;
  /** A directory whose node_modules `npm ci` installed from the stage's package-lock.json: `npm ci --omit=dev` is materialized from it. */
  installedFrom?: string;
}

interface LockPackage {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  link?: boolean;
}

/**
 * What `npm ci --omit=dev` writes into `dir`, from `dir`/package-lock.json: every package the lockfile does not mark dev,
 * at the lockfile's path, hard-linked from `installedFrom`/node_modules. npm leaves out a dev package and an optional one
 * whose platform does not match (absent here too); anything else absent, or installed at another version than the
 * lockfile's, is an error — the installed tree is not the lockfile's. Returns how many packages were placed.
 */
export function materializeProductionInstall(dir: string, installedFrom: string): number {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  let placed = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev === true) continue;
    if (entry.link === true) throw new Error(`${path}: a linked package is not emulated`);
    const from = join(installedFrom, path);
    if (!existsSync(from)) {
      if (entry.optional === true || entry.devOptional === true) continue;
      throw new Error(`${path} is in package-lock.json but not installed in ${installedFrom}: run npm ci there first`);
    }
    const version = (JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { version?: string }).version;
    if (version !== entry.version)
      throw new Error(`${path} is installed at ${version} in ${installedFrom}, the lockfile says ${entry.version}: run npm ci there first`);
    // A package's own node_modules are lockfile entries of their own.
    linkTree(from, join(dir, path), { skip: ['node_modules'] });
    placed++;
  }
  return placed;
}

/** Builds targets on demand; stages shared by several targets (the compile, the production install) are built once. */
export function dockerEmulator(o: EmulateOptions): { target(name: string): BuiltTarget } {
  const stages = parseDockerfile(readFileSync(o.dockerfile, 'utf8'));
  const built = new Map<string, BuiltTarget>([['build', { dir: o.buildStageDir, env: {}, cmd: [], log: [] }]]);
  const log: string[] = [];

  // eslint-disable-next-line complexity -- builds one stage: its base, then one case per Dockerfile instruction the emulation supports
  const buildStage = (name: string): BuiltTarget => {
    const done = built.get(name);
    if (done) return done;
    const stage = stages.find((s) => s.name === name);
    if (!stage) throw new Error(`no stage ${name} in ${o.dockerfile}`);
    const dir = join(o.workDir, `stage-${name}`);
    let env: Record<string, string> = {};
    let cmd: string[] = [];
    if (stages.some((s) => s.name === stage.from)) {
      const parent = buildStage(stage.from);
      linkTree(parent.dir, dir);
      env = { ...parent.env };
      cmd = parent.cmd;
    } else {
      mkdirSync(dir, { recursive: true });
    }
    for (const ins of stage.instructions) {
      switch (ins.op) {
        case 'ENV':
          for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g))
            env[m[1] as string] = (m[2] as string).replace(/^"|"$/g, '');
          break;
        case 'WORKDIR':
          if (ins.args !== '/app') throw new Error(`stage ${name}: WORKDIR ${ins.args} (the emulation supports /app)`);
          break;
        case 'COPY': {
          const words = ins.args.split(/\s+/);
          const fromFlag = words.find((w) => w.startsWith('--from='));
          const paths = words.filter((w) => !w.startsWith('--'));
          const dest = paths.pop() as string;
          const sourceRoot = fromFlag ? buildStage(fromFlag.slice('--from='.length)).dir : o.context;
          for (const src of paths) {
            const from = fromFlag ? join(sourceRoot, src.replace(/^\/app\/?/, '')) : resolve(o.context, src);
            if (!existsSync(from)) throw new Error(`stage ${name}: COPY source ${src} does not exist`);
            const to = dest.endsWith('/') ? join(dir, dest, basename(from)) : join(dir, dest);
            mkdirSync(dirname(to), { recursive: true });
            if (fromFlag) linkTree(from, to);
            else cpSync(from, to, { recursive: true });
          }
          break;
        }
        case 'RUN': {
          if (o.installedFrom !== undefined && /^npm ci --omit=dev(\s|$)/.test(ins.args)) {
            const placed = materializeProductionInstall(dir, o.installedFrom);
            log.push(`[${name}] RUN ${ins.args}\n(materialized from package-lock.json: ${placed} packages linked from ${o.installedFrom})`);
            break;
          }
          const r = spawnSync('sh', ['-c', ins.args], {
            cwd: dir,
            env: { ...process.env, ...env },
            encoding: 'utf8',
            maxBuffer: 64 * 1024 * 1024,
          });
          const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
          log.push(`[${name}] RUN ${ins.args}\n${out}`);
          if (r.status !== 0) throw new Error(`stage ${name}: RUN ${ins.args} failed (${r.status}): ${out.slice(-2000)}`);
          break;
        }
        case 'CMD':
          cmd = JSON.parse(ins.args) as string[];
          break;
        case 'USER':
        case 'EXPOSE':
        case 'ARG':
        case 'LABEL':
          break;
        default:
          throw new Error(`stage ${name}: ${ins.op} is not emulated`);
      }
    }
    const result = { dir, env, cmd, log };
    built.set(name, result);
    return result;
  };
  return { target: buildStage };
}

/** The instructions of a stage, for checking what the emulation does not run. */
export function stageInstructions(dockerfile: string, name: string): Instruction[] {
  const stage = parseDockerfile(readFileSync(dockerfile, 'utf8')).find((s) => s.name === name);
  if (!stage) throw new Error(`no stage ${name}`);
  return stage.instructions;
}
