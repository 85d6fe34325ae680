import { performance } from 'node:perf_hooks';
import type { Context } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ModelAdapter, TokenStore } from '../stores/token-store.js';
import type { Pingable } from './health.js';

/** Why a client authentication failed, as `tessera_client_auth_failures_total` labels it. */
export type AuthFailureReason =
  'unknown_client' | 'bad_secret' | 'bad_certificate' | 'disabled' | 'throttled';
/** How a secret check ended, as `tessera_secret_checks_total` labels it. */
export type SecretCheckResult = 'cached' | 'verified' | 'failed' | 'busy';

const GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials']);

/**
 * Tessera's Prometheus metrics (contract section 8) in one registry, with prom-client's process
 * and Node metrics. No label ever holds a client id, user name, address or token: routes are
 * patterns, and every other label comes from a fixed list.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({
    name: 'tessera_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const durations = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by route pattern and method',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const tokens = new Counter({
    name: 'tessera_tokens_issued_total',
    help: 'Tokens issued at the token endpoint, by grant type',
    labelNames: ['grant_type'] as const,
    registers,
  });
  const authFailures = new Counter({
    name: 'tessera_client_auth_failures_total',
    help: 'Failed client authentications, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const secretChecks = new Counter({
    name: 'tessera_secret_checks_total',
    help: 'Client secret checks, by result',
    labelNames: ['result'] as const,
    registers,
  });
  const storeDurations = new Histogram({
    name: 'tessera_store_operation_duration_seconds',
    help: 'Time of store operations, by store and operation',
    labelNames: ['store', 'operation'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers,
  });
  let pingables: readonly Pingable[] = [];
  new Gauge({
    name: 'tessera_store_up',
    help: 'Whether each store answers (1) or not (0), asked at every scrape',
    labelNames: ['store'] as const,
    registers,
    // Over the workers of one scrape: down if any of them finds it down.
    aggregator: 'min',
    async collect() {
      await Promise.all(
        pingables.map(async (store) => {
          const up = await store.ping().then(
            () => 1,
            () => 0,
          );
          this.set({ store: store.name }, up);
        }),
      );
    },
  });

  return {
    registry,

    /** The stores `tessera_store_up` asks. */
    watchStores(stores: readonly Pingable[]): void {
      pingables = stores;
    },

    /**
     * Counts and times a finished request, labelled by what `routeOf` makes of it; called by the
     * request log's middleware, which times every request once for both.
     */
    requestRecorder(routeOf: (ctx: Context) => string): (ctx: Context, seconds: number) => void {
      // Labelled children are made once per label set, not looked up by label hash per request.
      const counted = new Map<string, { inc(): void }>();
      const timed = new Map<string, { observe(value: number): void }>();
      return function recordRequest(ctx, seconds) {
        const route = routeOf(ctx);
        const routeMethod = `${route} ${ctx.method}`;
        const countKey = `${routeMethod} ${ctx.status}`;
        let count = counted.get(countKey);
        if (!count) counted.set(countKey, (count = requests.labels(route, ctx.method, String(ctx.status))));
        count.inc();
        let time = timed.get(routeMethod);
        if (!time) timed.set(routeMethod, (time = durations.labels(route, ctx.method)));
        time.observe(seconds);
      };
    },

    tokenIssued(grantType: unknown): void {
      tokens.inc({
        grant_type: typeof grantType === 'string' && GRANT_TYPES.has(grantType) ? grantType : 'other',
      });
    },

    authFailure(reason: AuthFailureReason): void {
      authFailures.inc({ reason });
    },

    secretCheck(result: SecretCheckResult): void {
      secretChecks.inc({ result });
    },

    /** The recorder of one store operation's durations (seconds). */
    storeTimer(store: string, operation: string): (seconds: number) => void {
      // Made on first use, so operations never run do not appear as empty series.
      let child: { observe(value: number): void } | undefined;
      return (seconds) => (child ??= storeDurations.labels(store, operation)).observe(seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * `store` with every method that returns a promise timed into `metrics` as `operation` (the
 * method's name after `prefix`); other methods are passed through as they are.
 */
export function timedStore<T extends object>(
  store: T,
  name: string,
  metrics: Pick<Metrics, 'storeTimer'>,
  prefix = '',
): T {
  const wrapped: Record<string, unknown> = {};
  for (const key of Object.keys(store) as (keyof T & string)[]) {
    const value = store[key];
    if (typeof value !== 'function') {
      wrapped[key] = value;
      continue;
    }
    const method = value as (...args: unknown[]) => unknown;
    const record = metrics.storeTimer(name, `${prefix}${key}`);
    wrapped[key] = (...args: unknown[]) => {
      const started = performance.now();
      const result = method.apply(store, args);
      if (!(result instanceof Promise)) return result;
      return result.finally(() => record((performance.now() - started) / 1000));
    };
  }
  return wrapped as T;
}

/** The token store with its operations timed, per model (`AccessToken.upsert`, ...). */
export function timedTokenStore(store: TokenStore, metrics: Pick<Metrics, 'storeTimer'>): TokenStore {
  const adapters = new Map<string, ModelAdapter>();
  return {
    ...timedStore(store, 'token_store', metrics),
    adapter(model) {
      let adapter = adapters.get(model);
      if (!adapter) {
        adapter = timedStore(store.adapter(model), 'token_store', metrics, `${model}.`);
        adapters.set(model, adapter);
      }
      return adapter;
    },
  };
}
