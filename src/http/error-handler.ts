import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { AppError, serverError, StoreUnavailableError, unavailable } from '../errors.js';

/**
 * Turns anything thrown by Tessera's own routes into the one error shape
 * `{"error", "error_description"}`; unexpected errors are logged and answered 500 without detail.
 */
export function errorHandler(logger: Logger): Middleware {
  return async function handleErrors(ctx, next) {
    try {
      await next();
    } catch (caught) {
      const error =
        caught instanceof AppError
          ? caught
          : caught instanceof StoreUnavailableError
            ? unavailable(`${caught.store} is unavailable; retry shortly`, caught)
            : serverError(caught);
      if (error.status >= 500) {
        logger.error({ req_id: ctx.state.reqId, err: error.cause ?? error }, 'request failed');
      }
      ctx.status = error.status;
      ctx.set('cache-control', 'no-store');
      for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
      ctx.body = error.toBody();
    }
  };
}
