/**
 * The layering rules (.dependency-cruiser.cjs, run by `npm run lint`) bite: each reports a violation planted in a scratch
 * tree, found through a type-only import, a re-export, a dynamic import or a chain of imports as the rule says, and leaves
 * a clean file alone. Plus the two checks dependency-cruiser cannot make: domain code speaks outcomes, not HTTP status
 * codes, and only the config readers touch process.env.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every folder under a service: the same definition of domain code as the cruiser config's DOMAIN. */
const domainDirs = (): string[] =>
  ['coordinator', 'worker'].flatMap((svc) =>
    readdirSync(join(root, 'services', svc))
      .map((name) => join(root, 'services', svc, name))
      .filter((p) => statSync(p).isDirectory()),
  );

/** The scratch tree: path → source. Each violating file is named after the rule it breaks. */
const TREE: Record<string, string> = {
  'tsconfig.json': JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
    include: ['**/*.ts'],
  }),
  'shared/ports/port.ts': `export interface Port { run(): Promise<void> }\n`,
  'shared/adapters/thing.ts': `import type { Port } from '../ports/port.js';\nexport class Thing implements Port { async run() {} }\n`,
  'shared/http/auth.ts': `export const MIN = 16;\n`,
  'shared/values/helper.ts': `export { Thing } from '../adapters/thing.js';\n`,
  'shared/values/sdk-reexport.ts': `export type { Request } from 'express';\n`,
  // Domain: a clean file, then one violation per way in.
  'services/svc/batch/clean.ts': `import type { Port } from '../../../shared/ports/port.js';\nimport { z } from 'zod';\nimport { randomUUID } from 'node:crypto';\nexport const use = (p: Port) => [p, z, randomUUID];\n`,
  'services/svc/batch/sdk-direct.ts': `import { BigQuery } from '@google-cloud/bigquery';\nexport const x = BigQuery;\n`,
  'services/svc/predict/adapter-type-only.ts': `import type { Thing } from '../../../shared/adapters/thing.js';\nexport type T = Thing;\n`,
  'services/svc/models/adapter-dynamic.ts': `export const load = () => import('../../../shared/adapters/thing.js');\n`,
  'services/svc/dispatch/sdk-through-reexport.ts': `import type { Request } from '../../../shared/values/sdk-reexport.js';\nexport type R = Request;\n`,
  // Config and contracts: HTTP directly, an adapter through a re-export.
  'shared/config/env.ts': `import { MIN } from '../http/auth.js';\nexport const min = MIN;\n`,
  'shared/contracts/msg.ts': `import { Thing } from '../values/helper.js';\nexport const t = Thing;\n`,
  // Production importing test code.
  'test/helpers/h.ts': `export const h = 1;\n`,
  'bin/tool.ts': `import { h } from '../test/helpers/h.js';\nexport const x = h;\n`,
  // A cycle, one side type-only.
  'shared/values/a.ts': `import { b } from './b.js';\nexport const a = () => b;\nexport type A = number;\n`,
  'shared/values/b.ts': `import type { A } from './a.js';\nexport const b: A = 1;\n`,
  // An orphan, and an import that resolves to nothing.
  'shared/values/lonely.ts': `export const lonely = 1;\n`,
  'shared/values/broken.ts': `import { gone } from './missing.js';\nexport const x = gone;\n`,
};

describe('the layering rules in .dependency-cruiser.cjs', () => {
  let dir = '';
  let violations: Array<{ rule: string; from: string; to: string }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'depcruise-'));
    for (const [path, source] of Object.entries(TREE)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), source);
    }
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const options = await extractDepcruiseOptions(join(root, '.dependency-cruiser.cjs'));
    const cwd = process.cwd();
    process.chdir(dir); // the cruiser resolves and reports paths relative to the working directory
    try {
      const result = await cruise(
        ['services', 'shared', 'bin', 'test'],
        { ...options, baseDir: dir, validate: true, preserveSymlinks: true },
        {},
        { tsConfig: extractTSConfig(join(dir, 'tsconfig.json')) },
      );
      const output = result.output as ICruiseResult;
      violations = output.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
    } finally {
      process.chdir(cwd);
    }
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const reported = (rule: string, from: string) => violations.filter((v) => v.rule === rule && v.from === from);

  it('domain code imports no SDK and no adapter: directly, type-only, by dynamic import or through a re-export', () => {
    expect(reported('domain-imports-only-ports-contracts-and-pure-helpers', 'services/svc/batch/sdk-direct.ts')).not.toEqual([]);
    expect(reported('domain-imports-only-ports-contracts-and-pure-helpers', 'services/svc/predict/adapter-type-only.ts')).not.toEqual([]);
    expect(reported('domain-imports-only-ports-contracts-and-pure-helpers', 'services/svc/models/adapter-dynamic.ts')).not.toEqual([]);
    expect(reported('domain-reaches-no-sdk', 'services/svc/batch/sdk-direct.ts')).not.toEqual([]);
    expect(reported('domain-reaches-no-sdk', 'services/svc/dispatch/sdk-through-reexport.ts')).not.toEqual([]);
  });

  it('leaves a domain file alone that imports a port, zod and a Node built-in', () => {
    expect(violations.filter((v) => v.from === 'services/svc/batch/clean.ts')).toEqual([]);
  });

  it('config and contracts reach no HTTP or adapter code, even through a chain', () => {
    expect(reported('config-and-contracts-reach-no-http-or-adapter', 'shared/config/env.ts')).not.toEqual([]);
    expect(reported('config-and-contracts-reach-no-http-or-adapter', 'shared/contracts/msg.ts')).not.toEqual([]);
  });

  it('production code imports no test code', () => {
    expect(reported('production-imports-no-test-code', 'bin/tool.ts')).toEqual([
      { rule: 'production-imports-no-test-code', from: 'bin/tool.ts', to: 'test/helpers/h.ts' },
    ]);
  });

  it('finds a cycle whose back edge is type-only', () => {
    const cycles = violations.filter((v) => v.rule === 'no-cycles').map((v) => [v.from, v.to].sort());
    expect(cycles).toEqual([['shared/values/a.ts', 'shared/values/b.ts']]);
  });

  it('finds an orphan and an import that resolves to nothing', () => {
    expect(violations.filter((v) => v.rule === 'no-orphans').map((v) => v.from)).toEqual(['shared/values/lonely.ts']);
    expect(reported('no-unresolvable-imports', 'shared/values/broken.ts')).toEqual([
      { rule: 'no-unresolvable-imports', from: 'shared/values/broken.ts', to: './missing.js' },
    ]);
  });
});

describe('what dependency-cruiser cannot see', () => {
  it('domain code speaks outcomes, not HTTP: no status code, no HTTP error type in a domain folder', () => {
    const violations: string[] = [];
    for (const dir of domainDirs()) {
      for (const file of files(dir)) {
        const source = readFileSync(file, 'utf8');
        for (const pattern of [/httpStatus/, /\bAppError\b/, /\bres\.status\(/, /\b(?:status|http)\s*:\s*[1-5]\d\d\b/]) {
          if (pattern.test(source)) violations.push(`${relative(root, file)} matches ${pattern}`);
        }
      }
    }
    expect(domainDirs().length).toBeGreaterThan(5);
    expect(violations).toEqual([]);
  });

  it('nothing outside config and composition roots reads process.env', () => {
    const allowed = new Set(['services/coordinator/main.ts', 'services/worker/main.ts', 'shared/config/common.ts']);
    const offenders = ['services', 'shared']
      .flatMap((d) => files(join(root, d)))
      .filter((f) => !allowed.has(relative(root, f)) && readFileSync(f, 'utf8').includes('process.env'))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });
});
