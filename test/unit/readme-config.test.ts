/**
 * The README's configuration table names every variable the services' config schemas read, and nothing else: a setting
 * added to a schema without a row (or a row left behind by a removed one) fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coordinatorConfigSchema } from '../../services/coordinator/config.js';
import { workerConfigSchema } from '../../services/worker/config.js';
import { repoRoot } from '../helpers/service-process.js';

/** The variable names of the first column of the table under `## Configuration`. */
function readmeVariables(): Set<string> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  return new Set(rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] as string)));
}

/** The variables an env schema reads: the object at the start of its pipe (`z.object(…).superRefine(…).transform(…)`). */
function variablesOf(schema: unknown): string[] {
  let s = schema as { shape?: Record<string, unknown>; in?: unknown };
  while (s.shape === undefined && s.in !== undefined) s = s.in as typeof s;
  if (s.shape === undefined) throw new Error('not an object schema');
  return Object.keys(s.shape);
}

describe('README configuration table', () => {
  it('lists exactly the variables the two config schemas read', () => {
    const schemas = new Set([...variablesOf(coordinatorConfigSchema), ...variablesOf(workerConfigSchema)]);
    expect(schemas.size).toBeGreaterThan(30);
    expect([...readmeVariables()].sort()).toEqual([...schemas].sort());
  });
});
