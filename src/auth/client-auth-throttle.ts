import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import { errors } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Limiter, LimitRule, LimitState } from '../stores/limiter.js';

/** How long failed client authentications are counted (contract section 8). */
export const CLIENT_AUTH_WINDOW_SECONDS = 5 * 60;

/** `429 invalid_client`: this client id from this address failed too often; `Retry-After` says when to retry. */
export class ClientAuthThrottledError extends errors.OIDCProviderError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'invalid_client');
    this.expose = true;
    this.error_description = 'too many failed client authentications from this address; retry later';
  }
}

/** What one request at a client-authenticating endpoint learns on its way through. */
interface Attempt {
  address: string;
  /** The client id the provider looked up first: the one presented for authentication. */
  clientId?: string;
  throttled?: LimitState;
  /** A failure counted ahead of an argon2 check (taken back unless the attempt fails). */
  reserved?: LimitState;
}

export interface ClientAuthThrottle {
  /** Wraps a client-authenticating endpoint: counts its `401 invalid_client` answers per client id and address. */
  middleware(): Middleware;
  /**
   * Called when the provider looks a client up. The first lookup of such a request is the
   * client presented for authentication: a throttled pair is refused here, before any secret
   * is hashed or certificate checked, and whether or not the client exists.
   */
  beforeLookup(clientId: string): Promise<void>;
  /**
   * Called right before a secret is hashed. The failure is counted ahead (and taken back on
   * success), so a burst of wrong secrets gets at most the limit's worth of argon2 checks
   * however many arrive at once.
   */
  beforeHashing(): Promise<void>;
  /** The source address of the request being authenticated, if it is one. */
  source(): string | undefined;
}

/**
 * Client-authentication throttling (RFC 6749 section 2.3.1): per client id and source address,
 * `maxFailures` failures within five minutes, counted in the shared limiter so that the limit
 * holds across nodes. Failures from one address never lock the client out for another.
 */
export function createClientAuthThrottle(deps: {
  limiter: Limiter;
  maxFailures: number;
  logger: Logger;
  /** The paths whose client authentication is throttled. */
  paths: ReadonlySet<string>;
  /** Told of every failed or throttled authentication, with the presented client id (null: throttled). */
  onFailure?: (clientId: string | null) => Promise<void>;
}): ClientAuthThrottle {
  const { limiter, logger } = deps;
  const rule: LimitRule = {
    name: 'client-auth',
    points: deps.maxFailures,
    windowSeconds: CLIENT_AUTH_WINDOW_SECONDS,
  };
  const scope = new AsyncLocalStorage<Attempt>();
  // Presented ids may be anything, of any length: the key holds a digest of the id.
  const keyOf = (attempt: Attempt) =>
    `${createHash('sha256').update(attempt.clientId!).digest('base64url')}|${attempt.address}`;

  const refuse = (attempt: Attempt, state: LimitState): never => {
    attempt.throttled = state;
    throw new ClientAuthThrottledError(state.retryAfterSeconds);
  };
  // Logged once per window: on the failure that reaches the limit. Never the secret.
  const counted = (attempt: Attempt, state: LimitState) => {
    if (state.hits === rule.points) {
      logger.warn(
        { client_id: attempt.clientId!.slice(0, 200), address: attempt.address, failures: state.hits },
        'client authentication throttled',
      );
    }
  };

  return {
    middleware() {
      return async function throttleClientAuth(ctx, next) {
        if (ctx.method !== 'POST' || !deps.paths.has(ctx.path)) return next();
        const attempt: Attempt = { address: ctx.ip };
        await scope.run(attempt, next);
        if (attempt.throttled) {
          ctx.set('retry-after', String(Math.max(1, attempt.throttled.retryAfterSeconds)));
          await deps.onFailure?.(null);
          return;
        }
        const body = ctx.body as { error?: unknown } | undefined;
        const failed = ctx.status === 401 && body?.error === 'invalid_client';
        if (failed && attempt.clientId !== undefined) await deps.onFailure?.(attempt.clientId);
        if (attempt.reserved) {
          if (failed) counted(attempt, attempt.reserved);
          else await limiter.reward(rule, keyOf(attempt));
        } else if (failed && attempt.clientId !== undefined) {
          counted(attempt, await limiter.hit(rule, keyOf(attempt)));
        }
      };
    },

    async beforeLookup(clientId) {
      const attempt = scope.getStore();
      if (!attempt || attempt.clientId !== undefined) return;
      attempt.clientId = clientId;
      const state = await limiter.check(rule, keyOf(attempt));
      if (state.limited) refuse(attempt, state);
    },

    async beforeHashing() {
      const attempt = scope.getStore();
      if (!attempt?.clientId || attempt.reserved) return;
      const state = await limiter.hit(rule, keyOf(attempt));
      if (state.hits > rule.points) refuse(attempt, state);
      attempt.reserved = state;
    },

    source: () => scope.getStore()?.address,
  };
}
