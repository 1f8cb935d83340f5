/**
 * A Node preload (`node --import <this file>`) that records every module URL the ESM loader resolves, one per line, in the
 * file named by MODULE_TRACE_FILE. Tests use it to see which packages a child process loaded. The same file is both the
 * preload (main thread: registers itself) and the resolve hook (hooks thread: appends each resolved URL).
 * https://nodejs.org/docs/latest-v20.x/api/module.html#customization-hooks
 */
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const traceFile = process.env.MODULE_TRACE_FILE;
if (!traceFile) throw new Error('module-trace: set MODULE_TRACE_FILE');
if (isMainThread) register(import.meta.url);

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(traceFile, `${resolved.url}\n`);
  return resolved;
}
