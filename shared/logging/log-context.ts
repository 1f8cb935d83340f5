/**
 * The request's logging context, carried by AsyncLocalStorage: every log line written while serving a request — by the
 * route, the domain or an adapter, through the root logger or a child — carries the request's trace and, once known, its
 * batch and player. The HTTP layer opens the context; domain code adds what it learns (`addLogContext({batch_id})`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

type Fields = Record<string, unknown>;

const storage = new AsyncLocalStorage<Fields>();

/** Runs `fn` with a fresh context holding `fields`. */
export function runWithLogContext<T>(fields: Fields, fn: () => T): T {
  return storage.run({ ...fields }, fn);
}

/** Adds fields to the current context (no-op outside one). */
export function addLogContext(fields: Fields): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields);
}

/** The current context's fields (empty outside a request). */
export function logContext(): Fields {
  return storage.getStore() ?? {};
}
