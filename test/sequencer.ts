/**
 * File order for a run on two workers:
 *  - one project after the other: the `full` project's files first, then `fast`'s. vitest keeps a worker (and the
 *    modules it has imported: DuckDB, onnxruntime, the SDKs) for the next file only when that file is of the same project;
 *    at each change of project in the queue it stops the worker and forks a new one. Interleaved, a run forked six workers
 *    instead of four;
 *  - within a project, the files known to take longest first, so the run does not end with one worker busy on a long file
 *    the other could have shared (the short `fast` files fill the end). The rest follow vitest's own order (slowest of the
 *    previous run first, from its results cache; by size on a fresh checkout).
 * An order, never a condition: every file runs either way.
 */
import { basename } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest first, from measured runs (docs/testing.md → "How long it takes"): the docs' commands alone take about a minute. */
export const LONGEST_FILES = [
  'docs-commands.test.ts',
  'crash-recovery.test.ts',
  'drain-and-restart.test.ts',
  'production-boot.test.ts',
  'firestore-batch-store.test.ts',
  'ended-batches-and-dead-letters.test.ts',
  'npm-start-stop.test.ts',
  'batch-end-on-bigquery.test.ts',
  'services-on-emulators.test.ts',
  'seed-cli.test.ts',
  'demo-seed.test.ts',
  'dispatch-rules.test.ts',
];

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = LONGEST_FILES.indexOf(basename(f.moduleId));
      return i === -1 ? LONGEST_FILES.length : i;
    };
    const project = (f: TestSpecification): number => (f.project.name === 'full' ? 0 : 1);
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => project(a.f) - project(b.f) || rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
