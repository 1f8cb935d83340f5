/**
 * Builds a Dockerfile target without Docker, closely enough to run what the image runs: each stage is a directory; FROM
 * another stage starts from a hard-linked copy of it; COPY copies from the build context or another stage; RUN runs with
 * `sh -c` in the stage directory with the stage's ENV; the target's CMD is returned. WORKDIR must be /app (the stage
 * directory stands for it). The `build` stage (npm ci + npm run build) is not run: its directory is given, holding the
 * output of the same `tsc -p tsconfig.build.json` (buildDist) — the caller checks the stage still does only that.
 * Base images are not emulated: RUN uses this machine's node and npm (the images use node:20, the range package.json's engines states).
 */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';

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
  /** Added to every RUN's environment (e.g. npm_config_prefer_offline=true, to read the local npm cache). */
  runEnv?: NodeJS.ProcessEnv;
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
          const r = spawnSync('sh', ['-c', ins.args], {
            cwd: dir,
            env: { ...process.env, ...o.runEnv, ...env },
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

/** A copy whose files are hard links (stages share node_modules without copying hundreds of MB; RUN rm unlinks only its own). */
function linkTree(from: string, to: string): void {
  const r = spawnSync('cp', ['-al', from, to], { encoding: 'utf8' });
  if (r.status !== 0) cpSync(from, to, { recursive: true });
}

/** The instructions of a stage, for checking what the emulation does not run. */
export function stageInstructions(dockerfile: string, name: string): Instruction[] {
  const stage = parseDockerfile(readFileSync(dockerfile, 'utf8')).find((s) => s.name === name);
  if (!stage) throw new Error(`no stage ${name}`);
  return stage.instructions;
}
