/**
 * A copy of a directory tree whose files are hard links to the originals: directories are created, symbolic links made
 * again (same target), and each file linked, so no file's bytes are read or written. A file that cannot be linked because
 * `to` is on another file system (EXDEV) is copied instead; any other failure is thrown. The tests' copies (of the run's
 * build, of a Dockerfile stage) live beside their sources in the temporary directory, so they are linked.
 *
 * A linked file shares its content with the original: whoever holds such a copy may add files, and delete or replace
 * files (unlink, rename over), but never write into one in place — that would change the original and every other copy.
 */
import { copyFileSync, linkSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * `to` becomes a linked copy of `from`, a directory (merged into `to` if it exists) or a single file. `skip`: names left out
 * directly under `from` (e.g. a package's own `node_modules`).
 */
export function linkTree(from: string, to: string, opts: { skip?: readonly string[] } = {}): void {
  if (!statSync(from).isDirectory()) {
    mkdirSync(dirname(to), { recursive: true });
    return linkOrCopy(from, to);
  }
  linkDirectory(from, to, opts.skip ?? []);
}

function linkDirectory(from: string, to: string, skip: readonly string[]): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (skip.includes(entry.name)) continue;
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) linkDirectory(source, target, []);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else linkOrCopy(source, target);
  }
}

function linkOrCopy(source: string, target: string): void {
  try {
    linkSync(source, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(source, target);
  }
}
