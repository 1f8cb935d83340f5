/**
 * The Dockerfile's per-service step (and test/e2e/production-boot.test.ts, which runs the Dockerfile's commands):
 *
 *   node dist/bin/image/prune-node-modules.js <coordinator|worker>
 *
 * run in the directory holding package-lock.json and node_modules; prints what it kept and the size before and after.
 */
import { pruneNodeModules } from './prune.js';

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;
const service = process.argv[2] ?? '';
try {
  const r = pruneNodeModules(process.cwd(), service);
  process.stdout.write(
    `prune-node-modules ${service}: kept ${r.kept.length} packages, removed ${r.removed.length}; node_modules ${mb(r.before)} -> ${mb(r.after)}\n`,
  );
} catch (err) {
  process.stderr.write(`prune-node-modules: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
