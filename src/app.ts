import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { errorHandler } from './http/error-handler.js';
import { healthRoutes, type Pingable } from './http/health.js';
import { assetRoutes } from './http/assets.js';
import { metricsRoutes } from './http/health.js';
import type { Metrics } from './http/metrics.js';
import { requestLog } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { unrouted } from './http/unrouted.js';
import { ROUTES } from './provider/create-provider.js';

/** The methods oidc-provider answers on each of its paths. */
const PROTOCOL_METHODS: Record<string, readonly string[]> = {
  '/.well-known/openid-configuration': ['GET', 'HEAD'],
  '/.well-known/oauth-authorization-server': ['GET', 'HEAD'],
  [ROUTES.authorization]: ['GET', 'HEAD', 'POST'],
  [ROUTES.token]: ['POST'],
  [ROUTES.introspection]: ['POST'],
  [ROUTES.revocation]: ['POST'],
  [ROUTES.jwks]: ['GET', 'HEAD'],
  [ROUTES.userinfo]: ['GET', 'HEAD', 'POST'],
  [ROUTES.end_session]: ['GET', 'HEAD', 'POST'],
};

export interface AppDeps {
  provider: Provider;
  logger: Logger;
  stores: Pingable[];
  /** The admin API router (contract section 5). */
  admin: Router;
  /** Login and consent pages. */
  interactions: Router;
  /** The admin console's pages (contract section 7). */
  console: Router;
  /** Middleware around oidc-provider's own answers (inside the request log, so it logs their outcome). */
  protocol: Middleware[];
  metrics: Metrics;
  /** What `GET /metrics` answers: this process's metrics, or with workers every worker's. */
  scrape: () => Promise<string>;
}

/** The route label of a request: its pattern, never a raw path (contract section 8). */
function routeOf(ctx: Context): string {
  if (PROTOCOL_METHODS[ctx.path]) return ctx.path;
  if (ctx.path.startsWith(`${ROUTES.authorization}/`)) return `${ROUTES.authorization}/:uid`;
  const pattern = (ctx as Context & { routerPath?: string }).routerPath;
  return pattern && !pattern.includes('{*') ? pattern : 'unmatched';
}

/**
 * Assembles the HTTP application. oidc-provider is itself a Koa application: middleware added
 * with `provider.use` runs before its routes, and requests it does not route fall through to
 * Tessera's own. No I/O happens here, so tests can build the app around their own stores.
 */
export function createApp(deps: AppDeps): Provider {
  const { provider, logger } = deps;
  provider.use(deps.metrics.middleware(routeOf));
  provider.use(requestLog(logger));
  provider.use(securityHeaders(provider.issuer));
  provider.use(unrouted(PROTOCOL_METHODS));
  for (const middleware of deps.protocol) provider.use(middleware);

  const health = healthRoutes(deps.stores);
  // oidc-provider renders its own errors; Tessera's error shape covers Tessera's routes.
  const own: Middleware = compose([
    errorHandler(logger),
    health.routes(),
    metricsRoutes(deps.metrics.registry.contentType, deps.scrape).routes(),
    assetRoutes().routes(),
    deps.interactions.routes(),
    deps.admin.routes(),
    deps.admin.allowedMethods(),
    deps.console.routes(),
  ] as Middleware[]);
  // Protocol paths go straight to oidc-provider; everything else tries Tessera's own routes
  // first (health, sign-in pages, admin API) and falls through to oidc-provider after them.
  provider.use(function dispatch(ctx, next) {
    const { path } = ctx;
    if (path.startsWith('/oauth/')) return next();
    // RFC 8414 metadata is the same document as OIDC discovery.
    if (path === '/.well-known/oauth-authorization-server') {
      ctx.path = '/.well-known/openid-configuration';
      return next();
    }
    return path.startsWith('/.well-known/') ? next() : own(ctx, next);
  });

  provider.on('server_error', (ctx: { state?: { reqId?: string } }, error: Error) => {
    logger.error({ req_id: ctx.state?.reqId, err: error }, 'oidc-provider server error');
  });
  return provider;
}
