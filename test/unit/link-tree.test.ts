/**
 * The tests' linked copies (test/helpers/link-tree.ts: buildDist's copy of the run's build, the Dockerfile emulation's
 * stages): the same tree, its files hard links to the originals, and a copied file where linking cannot work (another file
 * system).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linkTree } from '../helpers/link-tree.js';

let root = '';
let src = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'link-tree-'));
  src = join(root, 'src');
  mkdirSync(join(src, 'a/b'), { recursive: true });
  writeFileSync(join(src, 'top.js'), 'top');
  writeFileSync(join(src, 'a/b/deep.js'), 'deep');
  symlinkSync('a/b/deep.js', join(src, 'alias.js'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Another file system than the temporary directory's, where a hard link from it fails with EXDEV; null when there is none. */
const otherDevice = ['/dev/shm'].find((d) => existsSync(d) && statSync(d).dev !== statSync(tmpdir()).dev) ?? null;

describe('linkTree', () => {
  it('makes the same tree of hard links (symbolic links made again), to which files can be added without touching the source', () => {
    const to = join(root, 'copy/dist');
    linkTree(src, to);
    for (const f of ['top.js', 'a/b/deep.js']) expect(statSync(join(to, f)).ino, f).toBe(statSync(join(src, f)).ino);
    expect(readlinkSync(join(to, 'alias.js'))).toBe('a/b/deep.js');
    expect(readFileSync(join(to, 'alias.js'), 'utf8')).toBe('deep');
    writeFileSync(join(to, 'probe.mjs'), 'added');
    expect(existsSync(join(src, 'probe.mjs'))).toBe(false);
  });

  it('leaves out the names it is told to skip directly under the source, and links a single file', () => {
    mkdirSync(join(src, 'node_modules'));
    writeFileSync(join(src, 'node_modules/x.js'), 'x');
    mkdirSync(join(src, 'a/node_modules'));
    linkTree(src, join(root, 'pkg'), { skip: ['node_modules'] });
    expect(existsSync(join(root, 'pkg/node_modules'))).toBe(false);
    expect(existsSync(join(root, 'pkg/a/node_modules'))).toBe(true);
    linkTree(join(src, 'top.js'), join(root, 'one/top.js'));
    expect(statSync(join(root, 'one/top.js')).ino).toBe(statSync(join(src, 'top.js')).ino);
  });

  it.skipIf(otherDevice === null)('copies the files onto another file system, where they cannot be linked (EXDEV)', () => {
    const to = mkdtempSync(join(otherDevice as string, 'link-tree-'));
    try {
      linkTree(src, join(to, 'dist'));
      expect(readFileSync(join(to, 'dist/a/b/deep.js'), 'utf8')).toBe('deep');
      expect(statSync(join(to, 'dist/a/b/deep.js')).ino).not.toBe(statSync(join(src, 'a/b/deep.js')).ino);
      expect(readlinkSync(join(to, 'dist/alias.js'))).toBe('a/b/deep.js');
    } finally {
      rmSync(to, { recursive: true, force: true });
    }
  });
});
