import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../bin/cbm-to-onnx.js';
import { sha256Hex } from '../../shared/catboost/convert.js';
import { readOnnxMetadata } from '../../shared/catboost/onnx-writer.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';

const FIXTURES = path.join(FIXTURES_DIR, 'catboost');
const present = existsSync(path.join(FIXTURES, 'oracle')) && existsSync(path.join(FIXTURES, 'nba')); // absent: skipped, said once (test/helpers/fixtures.ts)

async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe.skipIf(!present)('cbm-to-onnx CLI main()', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cbm-to-onnx-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('converts a real model with --features-from and --family', async () => {
    const cbmName = readdirSync(path.join(FIXTURES, 'nba'))
      .filter((f) => f.endsWith('.cbm'))
      .sort()[0]!;
    const cbm = path.join(FIXTURES, 'nba', cbmName);
    const metaPath = cbm.replace(/\.cbm$/, '_metadata.json');
    const out = path.join(tmp, 'model.onnx');
    const res = await runCli([cbm, out, '--features-from', metaPath, '--family', 'v9']);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/trees:\s+\d+/);
    expect(res.out).toMatch(/depth:\s+6/);
    expect(res.out).toMatch(/features:\s+33/);
    expect(res.out).toMatch(/bias:\s+\d+\.\d+/);
    expect(res.out).toContain(out);
    const meta = readOnnxMetadata(readFileSync(out));
    const features = (JSON.parse(readFileSync(metaPath, 'utf8')) as { features: string[] }).features;
    expect(JSON.parse(meta['feature_names']!)).toEqual(features);
    expect(meta['family']).toBe('v9');
    expect(meta['source_sha256']).toBe(sha256Hex(readFileSync(cbm)));
  });

  it('refuses an unsupported model with a non-zero exit and the reason', async () => {
    const out = path.join(tmp, 'nope.onnx');
    const res = await runCli([path.join(FIXTURES, 'oracle', 'multiclass_3.cbm'), out]);
    expect(res.code).not.toBe(0);
    expect(res.err).toMatch(/approx dimension 3/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a model whose features do not match the --family list', async () => {
    const cbmName = readdirSync(path.join(FIXTURES, 'nba'))
      .filter((f) => f.endsWith('.cbm'))
      .sort()[0]!;
    const out = path.join(tmp, 'wrong-family.onnx');
    const res = await runCli([path.join(FIXTURES, 'nba', cbmName), out, '--family', 'v12']);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/54 given, the model has 33 features/);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects bad usage and missing files', async () => {
    expect((await runCli([])).code).toBe(2);
    expect((await runCli(['a.cbm', 'b.onnx', '--family', 'v10'])).err).toMatch(/--family must be one of/);
    const missing = await runCli([path.join(tmp, 'missing.cbm'), path.join(tmp, 'x.onnx')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/ENOENT/);
  });
});
