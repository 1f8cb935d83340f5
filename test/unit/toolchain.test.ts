/**
 * The toolchain's statements agree with each other: one supported Node range (package.json `engines`, stated in the
 * README) that the Docker base images, `@types/node` and the Node running this suite fall in; and the install skips
 * onnxruntime-node's CUDA download through the environment and `allowScripts`, with no project `.npmrc` for npm to warn
 * about.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../helpers/dockerfile.js';
import { FIXTURE_TESTS } from '../helpers/fixtures.js';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { version?: string; hasInstallScript?: boolean; engines?: { node?: string } }>;
};

/** `^MAJOR.MINOR.PATCH`, the one form the project states its range in: that major, from that release on. */
function caretRange(range: string): { major: number; minor: number; patch: number } {
  const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (!m) throw new Error(`engines.node is ${range}; the project states its Node range as ^MAJOR.MINOR.PATCH`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

describe('one supported Node range', () => {
  const range = caretRange(pkg.engines.node);

  it('is the one the README states, and the lockfile records', () => {
    expect(read('README.md')).toContain(`\`${pkg.engines.node}\``);
    expect(lock.packages['']?.engines?.node).toBe(pkg.engines.node);
  });

  it('is the Node major every Docker stage starts from', () => {
    const bases = parseDockerfile(read('Dockerfile'))
      .map((s) => s.from)
      .filter((from) => from.startsWith('node:'));
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base).toMatch(new RegExp(`^node:${range.major}(?:[.-]|$)`));
  });

  it('is the major of @types/node, so the compiler offers no API that major lacks', () => {
    expect(pkg.devDependencies['@types/node']).toMatch(new RegExp(`^\\^${range.major}\\.`));
    expect(lock.packages['node_modules/@types/node']?.version).toMatch(new RegExp(`^${range.major}\\.`));
  });

  it('holds the Node running this suite', () => {
    const [major, minor, patch] = process.versions.node.split('.').map(Number) as [number, number, number];
    const atLeast = minor > range.minor || (minor === range.minor && patch >= range.patch);
    expect({ node: process.versions.node, inRange: major === range.major && atLeast }).toEqual({
      node: process.versions.node,
      inRange: true,
    });
  });
});

describe('quiet installs that skip the CUDA download', () => {
  it('has no project .npmrc (npm 11 warns on the key onnxruntime-node used to read from it)', () => {
    expect(existsSync(join(root, '.npmrc'))).toBe(false);
  });

  it('sets ONNXRUNTIME_NODE_INSTALL=skip in every Docker stage that installs, and in CI', () => {
    const installing = parseDockerfile(read('Dockerfile')).filter((s) =>
      s.instructions.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args)),
    );
    expect(installing.length).toBeGreaterThan(0);
    for (const stage of installing) {
      expect(stage.instructions.filter((i) => i.op === 'ENV').map((i) => i.args)).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
    }
    expect(read('.ci/run')).toMatch(/^export ONNXRUNTIME_NODE_INSTALL=skip$/m);
  });

  it('covers every dependency install script in allowScripts (npm 11 prints a notice for each one it does not), denying the CUDA download', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript === true)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts).toContain('onnxruntime-node');
    const uncovered = [...new Set(withScripts)].filter((name) => pkg.allowScripts?.[name] === undefined);
    expect(uncovered).toEqual([]);
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
  });
});

describe('the fixtures notice', () => {
  it('names exactly the test files that read the CatBoost fixtures', () => {
    const tests = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? tests(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
      );
    const readers = tests('test').filter((f) => f !== 'test/unit/toolchain.test.ts' && read(f).includes("from '../helpers/fixtures.js'"));
    expect(readers.sort()).toEqual([...FIXTURE_TESTS].sort());
  });
});

describe('the lint npm test runs (`npm run check`: oxlint with type-aware rules and the type check)', () => {
  it('rejects a floating promise, a promise where a void callback is expected, a type error, an unused local, an unused disable directive and a function above the complexity limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lint-check-'));
    try {
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { strict: true, noUnusedLocals: true, module: 'NodeNext', types: [] }, include: ['*.ts'] }),
      );
      writeFileSync(
        join(dir, 'bad.ts'),
        [
          'export async function save(): Promise<void> {}',
          'export function floating(): void {',
          '  save();', // line 3
          '}',
          'export function misused(): void {',
          '  [1, 2].forEach(async () => {', // line 6
          '    await save();',
          '  });',
          '}',
          'export function wrongType(): string {',
          '  const unused = 1;', // line 11
          '  return 42;', // line 12
          '}',
          '// eslint-disable-next-line complexity -- nothing here is complex', // line 14
          'export const plain = 1;',
          // line 16: 21 branches, complexity 22 (the limit is 20)
          `export function branchy(x: number): number { ${Array.from({ length: 21 }, (_, i) => `if (x === ${i}) return ${i};`).join(' ')} return -1; }`,
          '',
        ].join('\n'),
      );
      // The check's own command line (package.json), on this one file, from the repo (where oxlint finds tsgolint).
      const [bin, ...args] = (pkg.scripts.check as string).split(' ');
      expect(bin).toBe('oxlint');
      const run = spawnSync(join(root, 'node_modules/.bin/oxlint'), [...args, '--format=json', join(dir, 'bad.ts')], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(1);
      const found = (
        JSON.parse(run.stdout) as { diagnostics: Array<{ code?: string; message: string; labels: Array<{ span: { line: number } }> }> }
      ).diagnostics
        .map((d) => `${d.labels[0]?.span.line}: ${d.code ?? d.message}`)
        .sort();
      expect(found).toEqual([
        '11: typescript(TS6133)',
        '12: typescript(TS2322)',
        '14: Unused eslint-disable directive (no problems were reported).',
        '16: eslint(complexity)',
        '3: typescript(no-floating-promises)',
        '6: typescript(no-misused-promises)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
