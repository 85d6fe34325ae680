import { errors } from 'oidc-provider';

/**
 * The error family of Tessera's own routes. Every error carries an HTTP status and a stable
 * OAuth-style `code`; `expose` decides whether the description may leave the process.
 */
export class AppError extends Error {
  readonly expose: boolean;

  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
    options?: { cause?: unknown; headers?: Record<string, string>; expose?: boolean; field?: string },
  ) {
    super(description, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.expose = options?.expose ?? status < 500;
    this.headers = options?.headers;
    this.field = options?.field;
  }

  readonly headers: Record<string, string> | undefined;
  /** The request field the error is about, when it is about one (the console shows it there). */
  readonly field: string | undefined;

  /** The one error body shape of the whole API. */
  toBody(): { error: string; error_description: string } {
    return this.expose
      ? { error: this.code, error_description: this.message }
      : { error: this.code, error_description: 'the server could not complete the request' };
  }
}

export const invalidRequest = (description: string) => new AppError(400, 'invalid_request', description);
export const notFound = (description = 'not found') => new AppError(404, 'not_found', description);
export const serverError = (cause?: unknown) =>
  new AppError(500, 'server_error', 'internal server error', { cause });
/** 503 with its description shown: it names the store that is down, nothing more. */
export const unavailable = (description: string, cause?: unknown) =>
  new AppError(503, 'temporarily_unavailable', description, {
    cause,
    expose: true,
    headers: { 'retry-after': '1' },
  });

/**
 * Raised by a store when a uniqueness rule is broken (duplicate id or name). `field` names
 * the rule so services can map it to the contract's `409 conflict`.
 */
export class StoreConflictError extends Error {
  constructor(readonly field: string) {
    super(`duplicate ${field}`);
    this.name = 'StoreConflictError';
  }
}

/** Raised by a store listing when the cursor was not one it produced. */
export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not valid');
    this.name = 'InvalidCursorError';
  }
}

/**
 * Raised by a store that cannot be reached; answered `503 temporarily_unavailable`, by
 * oidc-provider on its routes (an exposed OIDCProviderError) and by the error handler on ours.
 */
export class StoreUnavailableError extends errors.OIDCProviderError {
  constructor(
    readonly store: string,
    options?: { cause?: unknown },
  ) {
    // The cause stays out of the provider's error options: they would copy its message, which
    // can carry a driver's command and keys, into `error_detail`.
    super(503, 'temporarily_unavailable');
    this.cause = options?.cause;
    this.expose = true;
    this.error_description = `${store} is unavailable; retry shortly`;
  }
}

/** The uniqueness rules a caller can break, as the README's `409 conflict` describes them. */
const CONFLICTS: Record<string, string> = {
  client_name: 'a client with this client_name exists in the account',
  username: 'a user with this username exists in the account',
};

/**
 * The one conversion of the error family: anything thrown, as the error the caller gets.
 * Tessera's own errors as they are; the store errors a caller caused in the README's shape;
 * an unreachable store as 503; oidc-provider's errors (its checks serve Tessera's routes too,
 * such as client metadata validation) with their own status and code when they may be shown;
 * anything else 500.
 */
export function toAppError(caught: unknown): AppError {
  if (caught instanceof AppError) return caught;
  if (caught instanceof InvalidCursorError) return invalidRequest('cursor is not valid');
  if (caught instanceof StoreConflictError && CONFLICTS[caught.field]) {
    return new AppError(409, 'conflict', CONFLICTS[caught.field]!, { field: caught.field });
  }
  const storeDown = unavailableStore(caught);
  if (storeDown) return unavailable(`${storeDown.store} is unavailable; retry shortly`, storeDown);
  if (caught instanceof errors.OIDCProviderError && caught.expose) {
    const description = caught.error_description ?? caught.message;
    return new AppError(caught.statusCode, caught.error, description, { cause: caught });
  }
  return serverError(caught);
}

/** A store's unavailability, thrown directly or wrapped by the provider's adapters on the way through a model. */
export function unavailableStore(caught: unknown): StoreUnavailableError | undefined {
  if (caught instanceof StoreUnavailableError) return caught;
  const cause = (caught as { cause?: unknown } | null)?.cause;
  return cause instanceof StoreUnavailableError ? cause : undefined;
}
