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
