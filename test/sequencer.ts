/**
 * File order for a run on two workers: the files known to take longest start first, so the run does not end with one
 * worker busy on a long file the other could have shared; the unit and component files, short, come after every
 * integration and end-to-end file and fill the end. Within each, vitest's own order (slowest of the previous run first,
 * from its results cache; by size on a fresh checkout). An order, never a condition: every file runs either way.
 */
import { basename } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Longest first, from measured runs (docs/testing.md → "How long it takes"): the docs' commands alone take about half a
 * minute. firestore-batch-store comes second although it is shorter: it mostly waits for the Firestore emulator's
 * transactions (≈ 2 CPU-s in 18 s), so it runs beside the CPU-heaviest file instead of beside another file that waits
 * (ended-batches-and-dead-letters' backoffs), where both cores were half idle for ≈ 15 s.
 */
export const LONGEST_FILES = [
  'docs-commands.test.ts',
  'firestore-batch-store.test.ts',
  'crash-recovery.test.ts',
  'drain-and-restart.test.ts',
  'production-boot.test.ts',
  'ended-batches-and-dead-letters.test.ts',
  'npm-start-stop.test.ts',
  'batch-end-on-bigquery.test.ts',
  'seed-cli.test.ts',
  'demo-seed.test.ts',
  'dispatch-rules.test.ts',
  'services-on-emulators.test.ts',
];

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = LONGEST_FILES.indexOf(basename(f.moduleId));
      return i === -1 ? LONGEST_FILES.length : i;
    };
    const short = (f: TestSpecification): number => (/\/test\/(unit|component)\//.test(f.moduleId) ? 1 : 0);
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => short(a.f) - short(b.f) || rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
