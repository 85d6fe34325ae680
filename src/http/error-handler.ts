import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { type AppError, toAppError, unavailableStore } from '../errors.js';

/** Logs what the operator must see of a failed request: which store is down, or a server error. */
export function logFailure(logger: Logger, ctx: Context, caught: unknown, error: AppError): void {
  const storeDown = unavailableStore(caught);
  if (storeDown) {
    // Only which store: a driver's error can carry the command it failed on, keys included.
    logger.warn({ req_id: ctx.state.reqId, store: storeDown.store }, 'store unavailable');
  } else if (error.status >= 500) {
    logger.error({ req_id: ctx.state.reqId, err: error.cause ?? error }, 'request failed');
  }
}

/** Answers `error` in the one error shape, never cached. */
export function answerWith(ctx: Context, error: AppError): void {
  ctx.status = error.status;
  ctx.set('cache-control', 'no-store');
  for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
  ctx.body = error.toBody();
}

/**
 * Turns anything thrown by Tessera's own routes into the one error shape
 * `{"error", "error_description"}`; unexpected errors are logged and answered 500 without detail.
 * This is the one place where store errors become HTTP answers.
 */
export function errorHandler(logger: Logger): Middleware {
  return async function handleErrors(ctx, next) {
    try {
      await next();
    } catch (caught) {
      const error = toAppError(caught);
      logFailure(logger, ctx, caught, error);
      answerWith(ctx, error);
    }
  };
}
