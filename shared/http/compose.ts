/** Several middlewares as one (so a route reads `app.post(path, auth, handler)` with handler types still inferred). */
import type { RequestHandler } from 'express';

export function compose(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let i = 0;
    const step = (err?: unknown): void => {
      if (err !== undefined) return next(err);
      const h = handlers[i++];
      if (!h) return next();
      try {
        const out: unknown = h(req, res, step);
        if (out instanceof Promise) out.catch(next);
      } catch (e) {
        next(e);
      }
    };
    step();
  };
}
