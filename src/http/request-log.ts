import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { requestLineWriter } from '../logger.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives every request an id (a sane incoming `x-request-id`, else a new one), echoes it, and
 * writes one log line when the response is done. The line holds the path without its query
 * string and never a header or body, so secrets sent in any of them cannot reach the log.
 */
export function requestLog(logger: Logger): Middleware {
  const write = requestLineWriter(logger);
  return function logRequest(ctx, next) {
    const incoming = ctx.req.headers['x-request-id'];
    const reqId = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.reqId = reqId;
    const path = ctx.path;
    const started = performance.now();
    const done = () => {
      const oidc = (ctx as { oidc?: { client?: { clientId?: string } } }).oidc;
      write({
        req_id: reqId,
        method: ctx.method,
        path,
        status: ctx.status,
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
        client_id: oidc?.client?.clientId,
        // Koa's `ip` reads the forwarded-for header even when it may not trust it.
        remote: ctx.app.proxy ? ctx.ip : (ctx.req.socket.remoteAddress ?? ''),
      });
    };
    // The header goes on once the response is settled: set earlier, it would make every
    // `ctx.response.headers` read on the way (oidc-provider's CORS does one per request) copy it.
    return next().then(
      () => {
        ctx.set('x-request-id', reqId);
        done();
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  };
}
