/**
 * Each image's package list (bin/image/images.ts) against the code: every package a service's code can load, followed from
 * its main.ts through static and dynamic imports, is either in the image or left out with a reason; what is left out is
 * never loaded at boot (only behind a dynamic import); nothing is shipped that the code does not import; and each service's
 * code lies where the Dockerfile copies it from. Also the prune's walk of the lockfile, on a small graph.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importGraph, repoRoot, serviceEntry } from '../helpers/import-graph.js';
import { IMAGES, type ServiceName } from '../../bin/image/images.js';
import { reachablePackages } from '../../bin/image/prune.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');

describe.each(['coordinator', 'worker'] as ServiceName[])('the %s image', (service) => {
  const graph = importGraph(serviceEntry(service));
  const spec = IMAGES[service];

  it('ships or deliberately omits every package its code can load, and ships nothing else', () => {
    const reachable = [...graph.packages.keys()].sort();
    expect(reachable.length).toBeGreaterThan(3);
    expect([...spec.dependencies, ...Object.keys(spec.omitted)].sort()).toEqual(reachable);
  });

  it('omits only packages the code loads behind a dynamic import, never at boot', () => {
    for (const name of Object.keys(spec.omitted)) expect(graph.packages.get(name), name).toBe('dynamic');
    expect(spec.omitted['@duckdb/node-api']).toBeDefined();
  });

  it('takes its packages from the production dependencies (what `npm ci --omit=dev` installs)', () => {
    for (const name of spec.dependencies) expect(Object.keys(pkg.dependencies), name).toContain(name);
  });

  it('runs code that the Dockerfile copies into it: shared/ and its own service directory', () => {
    const outside = graph.files.map((f) => f.path).filter((p) => !p.startsWith('shared/') && !p.startsWith(`services/${service}/`));
    expect(outside).toEqual([]);
    expect(dockerfile).toContain(`COPY --from=build /app/dist/shared ./dist/shared`);
    expect(dockerfile).toContain(`COPY --from=build /app/dist/services/${service} ./dist/services/${service}`);
    expect(dockerfile).toContain(`CMD ["node", "${spec.main}"]`);
  });
});

describe('the prune’s walk of the lockfile', () => {
  const lock = {
    'node_modules/a': { dependencies: { b: '^1', c: '^1' } },
    'node_modules/b': { dependencies: { c: '^2' } },
    'node_modules/b/node_modules/c': {},
    'node_modules/c': { optionalDependencies: { 'c-linux': '1' } },
    'node_modules/c-linux': {},
    'node_modules/d': { dependencies: { e: '1' } },
    'node_modules/e': {},
    'node_modules/dev-only': { dev: true },
  };

  it('keeps what the roots reach by node’s resolution (nearest node_modules first), optional dependencies included', () => {
    expect([...reachablePackages(lock, ['a'])].sort()).toEqual([
      'node_modules/a',
      'node_modules/b',
      'node_modules/b/node_modules/c',
      'node_modules/c',
      'node_modules/c-linux',
    ]);
    expect([...reachablePackages(lock, ['d'])].sort()).toEqual(['node_modules/d', 'node_modules/e']);
  });

  it('refuses a root that is not installed', () => {
    expect(() => reachablePackages(lock, ['missing'])).toThrow(/missing is not in package-lock\.json/);
  });

  it('on the real lockfile: the worker keeps onnxruntime and no DuckDB; the coordinator neither', () => {
    const real = (JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, never> }).packages;
    const worker = reachablePackages(real, IMAGES.worker.dependencies);
    const coordinator = reachablePackages(real, IMAGES.coordinator.dependencies);
    expect(worker).toContain('node_modules/onnxruntime-node');
    expect([...worker].some((p) => p.includes('@duckdb'))).toBe(false);
    expect([...coordinator].some((p) => p.includes('@duckdb') || p.includes('onnxruntime'))).toBe(false);
  });
});
