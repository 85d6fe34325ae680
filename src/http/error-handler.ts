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
      // Directly from a store, or wrapped by the provider's adapters on the way through a model.
      const storeDown =
        caught instanceof StoreUnavailableError
          ? caught
          : (caught as { cause?: unknown } | null)?.cause instanceof StoreUnavailableError
            ? (caught as { cause: StoreUnavailableError }).cause
            : undefined;
      const error =
        caught instanceof AppError
          ? caught
          : storeDown
            ? unavailable(`${storeDown.store} is unavailable; retry shortly`, storeDown)
            : serverError(caught);
      if (storeDown) {
        // Only which store: a driver's error can carry the command it failed on, keys included.
        logger.warn({ req_id: ctx.state.reqId, store: storeDown.store }, 'store unavailable');
      } else if (error.status >= 500) {
        logger.error({ req_id: ctx.state.reqId, err: error.cause ?? error }, 'request failed');
      }
      ctx.status = error.status;
      ctx.set('cache-control', 'no-store');
      for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
      ctx.body = error.toBody();
    }
  };
}
