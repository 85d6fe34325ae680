import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives every request an id (a sane incoming `x-request-id`, else a new one), echoes it, and
 * writes one log line when the response is done. The line holds the path without its query
 * string and never a header or body, so secrets sent in any of them cannot reach the log.
 * `record` gets the same timing, for the request metrics.
 */
export function requestLog(logger: Logger, record: (ctx: Context, seconds: number) => void): Middleware {
  // Every field of the line is fixed and none can hold a secret, so it skips the redaction
  // pass, which by key name could not catch anything here and would cost more than the line.
  const requests = logger.child({}, { redact: [] });
  return async function logRequest(ctx, next) {
    const incoming = ctx.get('x-request-id');
    const reqId = SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.reqId = reqId;
    ctx.set('x-request-id', reqId);
    const path = ctx.path;
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      record(ctx, seconds);
      const oidc = (ctx as { oidc?: { client?: { clientId?: string } } }).oidc;
      requests.info(
        {
          req_id: reqId,
          method: ctx.method,
          path,
          status: ctx.status,
          duration_ms: Math.round(seconds * 1e6) / 1000,
          client_id: oidc?.client?.clientId,
          // Koa gives the forwarded address only when the application trusts its proxy.
          remote: ctx.ip,
        },
        'request',
      );
    }
  };
}
