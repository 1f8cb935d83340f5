/**
 * The Dockerfile emulation's production install (test/helpers/dockerfile.ts): what `npm ci --omit=dev` would lay out from
 * a lockfile, linked from a tree `npm ci` installed from it — and a refusal whenever that tree is not the lockfile's.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { materializeProductionInstall } from '../helpers/dockerfile.js';

let root = '';
let installed = '';
let stage = '';

const pkg = (path: string, version: string, files: Record<string, string> = {}): void => {
  mkdirSync(join(installed, path), { recursive: true });
  writeFileSync(join(installed, path, 'package.json'), JSON.stringify({ name: path.split('node_modules/').pop(), version }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(installed, path, name, '..'), { recursive: true });
    writeFileSync(join(installed, path, name), text);
  }
};
const lockfile = (packages: Record<string, object>): void =>
  writeFileSync(join(stage, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'app' }, ...packages } }));

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'prod-install-'));
  installed = join(root, 'repo');
  stage = join(root, 'stage');
  mkdirSync(stage, { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('materializeProductionInstall', () => {
  it('places every non-dev package at its lockfile path, nested ones included, and leaves dev packages out', () => {
    pkg('node_modules/a', '1.0.0', { 'index.js': 'a', 'lib/node_modules/keep.js': 'not a dependency folder' });
    pkg('node_modules/a/node_modules/b', '2.0.0', { 'index.js': 'b' });
    pkg('node_modules/tool', '3.0.0');
    pkg('node_modules/tool/node_modules/c', '1.0.0');
    lockfile({
      'node_modules/a': { version: '1.0.0' },
      'node_modules/a/node_modules/b': { version: '2.0.0' },
      'node_modules/tool': { version: '3.0.0', dev: true },
      'node_modules/tool/node_modules/c': { version: '1.0.0', dev: true },
      'node_modules/other-platform': { version: '1.0.0', optional: true },
    });
    expect(materializeProductionInstall(stage, installed)).toBe(2);
    expect(readFileSync(join(stage, 'node_modules/a/index.js'), 'utf8')).toBe('a');
    expect(readFileSync(join(stage, 'node_modules/a/lib/node_modules/keep.js'), 'utf8')).toBe('not a dependency folder');
    expect(readFileSync(join(stage, 'node_modules/a/node_modules/b/index.js'), 'utf8')).toBe('b');
    expect(statSync(join(stage, 'node_modules/a/index.js')).ino).toBe(statSync(join(installed, 'node_modules/a/index.js')).ino);
    expect(existsSync(join(stage, 'node_modules/tool'))).toBe(false);
    expect(existsSync(join(stage, 'node_modules/other-platform'))).toBe(false);
  });

  it('refuses a package the lockfile needs that is not installed', () => {
    pkg('node_modules/a', '1.0.0');
    lockfile({ 'node_modules/a': { version: '1.0.0' }, 'node_modules/missing': { version: '1.0.0' } });
    expect(() => materializeProductionInstall(stage, installed)).toThrow(/node_modules\/missing is in package-lock.json but not installed/);
  });

  it('refuses a package installed at another version than the lockfile’s', () => {
    pkg('node_modules/a', '1.0.1');
    lockfile({ 'node_modules/a': { version: '1.0.0' } });
    expect(() => materializeProductionInstall(stage, installed)).toThrow(/installed at 1.0.1 .* the lockfile says 1.0.0/);
  });
});
