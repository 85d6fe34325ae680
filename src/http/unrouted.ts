import type { Middleware } from 'koa';
import { AppError, notFound } from '../errors.js';
import { answerWith } from './error-handler.js';

/**
 * The last word on a request nothing answered: `405 invalid_request` with `Allow` for a known
 * path and a wrong method, `404 not_found` for any other path, always in the one JSON error
 * shape (README, "Operations") rather than Koa's plain-text "Not Found".
 */
export function unrouted(known: Readonly<Record<string, readonly string[]>>): Middleware {
  return async function answerUnrouted(ctx, next) {
    await next();
    if (ctx.status !== 404 || ctx.body != null) return;
    const allowed = known[ctx.path];
    const error =
      allowed && !allowed.includes(ctx.method)
        ? new AppError(
            405,
            'invalid_request',
            `${ctx.method} is not allowed here; use ${allowed.join(' or ')}`,
            {
              headers: { allow: allowed.join(', ') },
            },
          )
        : notFound('no such endpoint');
    answerWith(ctx, error);
  };
}
