import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import {
  AppError,
  InvalidCursorError,
  invalidRequest,
  serverError,
  StoreConflictError,
  StoreUnavailableError,
  unavailable,
} from '../errors.js';

/** The uniqueness rules a caller can break, as the contract's `409 conflict` describes them. */
const CONFLICTS: Record<string, string> = {
  client_name: 'a client with this client_name exists in the account',
  username: 'a user with this username exists in the account',
};

/**
 * Anything thrown, as the error the caller gets: Tessera's own errors as they are, the store
 * errors a caller caused in the contract's shape, an unreachable store as 503, anything else 500.
 */
export function toAppError(caught: unknown): AppError {
  if (caught instanceof AppError) return caught;
  if (caught instanceof InvalidCursorError) return invalidRequest('cursor is not valid');
  if (caught instanceof StoreConflictError && CONFLICTS[caught.field]) {
    return new AppError(409, 'conflict', CONFLICTS[caught.field]!, { field: caught.field });
  }
  const storeDown = unavailableStore(caught);
  if (storeDown) return unavailable(`${storeDown.store} is unavailable; retry shortly`, storeDown);
  return serverError(caught);
}

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

/** A store's unavailability, thrown directly or wrapped by the provider's adapters on the way through a model. */
function unavailableStore(caught: unknown): StoreUnavailableError | undefined {
  if (caught instanceof StoreUnavailableError) return caught;
  const cause = (caught as { cause?: unknown } | null)?.cause;
  return cause instanceof StoreUnavailableError ? cause : undefined;
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
      ctx.status = error.status;
      ctx.set('cache-control', 'no-store');
      for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
      ctx.body = error.toBody();
    }
  };
}
