/**
 * `npm run seed` as a process, from a fresh build: seeds a small season window, trains the demo models on worker threads,
 * then finds everything present. The models are the same bytes whether worker threads or the main thread trained them.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbWarehouse } from '../../shared/adapters/duckdb/duckdb-warehouse.js';
import { baseEnv, buildDist, repoRoot } from '../helpers/service-process.js';

const dir = mkdtempSync(join(tmpdir(), 'seed-cli-'));

function seed(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['dist/bin/seed-world.js', ...args], {
    cwd: dir,
    env: baseEnv(),
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const small = (name: string, threads: string): string[] => [
  '--days',
  '3',
  '--games',
  '2',
  '--trees',
  '6',
  '--warehouse',
  join(dir, name, 'w.duckdb'),
  '--models',
  join(dir, name, 'models'),
  '--train-threads',
  threads,
];

const modelHashes = (name: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const id of ['catboost_v9_demo', 'catboost_v12_noveg_demo', 'catboost_v9_q43_demo', 'catboost_v12_demo']) {
    out[id] = createHash('sha256')
      .update(readFileSync(join(dir, name, 'models', `${id}.onnx`)))
      .digest('hex');
  }
  return out;
};

describe('npm run seed (compiled, as a process)', () => {
  beforeAll(() => {
    buildDist(dir);
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('seeds the window with models trained on worker threads, then finds it present', async () => {
    const first = seed(small('a', '2'));
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/training 4 models on \d+ rows .* on 2 worker threads/);
    expect(first.out).toMatch(/^seeded: 5 dates /m);
    const again = seed(small('a', '2'));
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/demo world already present/);
    expect(again.out).toMatch(/^present: 5 dates /m);

    const warehouse = await DuckDbWarehouse.open({ path: join(dir, 'a', 'w.duckdb') });
    try {
      const registry = await warehouse.query({
        name: 'test.registry',
        sql: 'SELECT model_id, sha256_hash FROM {{nba_predictions.model_registry}}',
      });
      expect(Object.fromEntries(registry.map((r) => [r.model_id, r.sha256_hash]))).toEqual(modelHashes('a'));
    } finally {
      await warehouse.close();
    }
  }, 240_000);

  it('trains the same models in the main thread', () => {
    const r = seed(small('b', '0'));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/training 4 models .* in this thread/);
    expect(modelHashes('b')).toEqual(modelHashes('a'));
  }, 240_000);

  it('refuses a bad option with a usage message', () => {
    const r = seed(['--days', 'many']);
    expect(r.code).toBe(2);
    expect(r.out).toContain("--days must be an integer 0–400, got 'many'");
  });
});
