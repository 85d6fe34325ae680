import type { Middleware } from 'koa';

/**
 * The last word on a request nothing answered: `405 invalid_request` with `Allow` for a known
 * path and a wrong method, `404 not_found` for any other path, always in the contract's JSON
 * shape (contract section 8) rather than Koa's plain-text "Not Found".
 */
export function unrouted(known: Readonly<Record<string, readonly string[]>>): Middleware {
  return async function answerUnrouted(ctx, next) {
    await next();
    if (ctx.status !== 404 || ctx.body != null) return;
    const allowed = known[ctx.path];
    ctx.set('cache-control', 'no-store');
    if (allowed && !allowed.includes(ctx.method)) {
      ctx.status = 405;
      ctx.set('allow', allowed.join(', '));
      ctx.body = {
        error: 'invalid_request',
        error_description: `${ctx.method} is not allowed here; use ${allowed.join(' or ')}`,
      };
      return;
    }
    ctx.status = 404;
    ctx.body = { error: 'not_found', error_description: 'no such endpoint' };
  };
}
