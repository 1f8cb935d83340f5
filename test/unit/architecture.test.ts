/** The dependency rule, enforced: domain code imports ports, never SDKs, express or adapters. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const DOMAIN_DIRS = [
  'services/coordinator/dispatch',
  'services/coordinator/batch',
  'services/coordinator/alerts',
  'services/coordinator/lines',
  'services/coordinator/regeneration',
  'services/coordinator/signals',
  'services/coordinator/summary',
  'services/coordinator/health',
  'services/worker/predict',
  'services/worker/health',
  'services/worker/models',
];
const FORBIDDEN = [/^@google-cloud\//, /^onnxruntime-node$/, /^express$/, /^@duckdb\//, /^pino$/, /shared\/adapters\//];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('dependency direction', () => {
  it('domain folders import no SDK, web framework or adapter', () => {
    const violations: string[] = [];
    for (const dir of DOMAIN_DIRS) {
      for (const file of files(join(root, dir))) {
        const source = readFileSync(file, 'utf8');
        for (const m of source.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)) {
          const spec = m[1] as string;
          if (FORBIDDEN.some((re) => re.test(spec))) violations.push(`${relative(root, file)} imports ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('domain code speaks outcomes, not HTTP: no status code, no HTTP error type in a domain folder', () => {
    const violations: string[] = [];
    for (const dir of DOMAIN_DIRS) {
      for (const file of files(join(root, dir))) {
        const source = readFileSync(file, 'utf8');
        for (const pattern of [/httpStatus/, /\bAppError\b/, /\bres\.status\(/, /\b(?:status|http)\s*:\s*[1-5]\d\d\b/]) {
          if (pattern.test(source)) violations.push(`${relative(root, file)} matches ${pattern}`);
        }
      }
    }
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
