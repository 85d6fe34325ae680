import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import compose from 'koa-compose';
import Koa from 'koa';
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
  /** oidc-provider, mounted for the current signing keys (provider/generations.ts). */
  protocol: Middleware;
  logger: Logger;
  /** The cookie-signing keys: oidc-provider, mounted here, signs its cookies with the host's keys. */
  cookieKeys: string[];
  issuer: string;
  stores: Pingable[];
  /** The admin API router (README, "Admin API"). */
  admin: Router;
  /** Login and consent pages. */
  interactions: Router;
  /** The admin console's pages. */
  console: Router;
  /** Middleware ahead of oidc-provider (inside the request log, so it logs their outcome). */
  beforeProtocol: Middleware[];
  metrics: Metrics;
  /** What `GET /metrics` answers: this process's metrics, or with workers every worker's. */
  scrape: () => Promise<string>;
}

/** The route label of a request: its pattern, never a raw path (README, "Metrics"). */
function routeOf(ctx: Context): string {
  if (PROTOCOL_METHODS[ctx.path]) return ctx.path;
  if (ctx.path.startsWith(`${ROUTES.authorization}/`)) return `${ROUTES.authorization}/:uid`;
  const pattern = (ctx as Context & { routerPath?: string }).routerPath;
  return pattern && !pattern.includes('{*') ? pattern : 'unmatched';
}

/**
 * Assembles the HTTP application, once: Tessera's middleware and routes, with oidc-provider
 * mounted last (as in oidc-provider's own Koa example). Requests under `/oauth/` and
 * `/.well-known/` go to the provider; everything else tries Tessera's own routes first and falls
 * through to it. No I/O happens here, so tests can build the app around their own stores.
 */
export function createApp(deps: AppDeps): Koa {
  const { logger } = deps;
  const app = new Koa();
  app.keys = deps.cookieKeys;
  app.use(requestLog(logger, deps.metrics.requestRecorder(routeOf)));
  app.use(securityHeaders(deps.issuer, [ROUTES.authorization, ROUTES.end_session]));
  app.use(unrouted(PROTOCOL_METHODS));
  for (const middleware of deps.beforeProtocol) app.use(middleware);

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
  app.use(function dispatch(ctx, next) {
    const { path } = ctx;
    // oidc-provider serves both metadata documents (RFC 8414 and OIDC discovery) itself.
    return path.startsWith('/oauth/') || path.startsWith('/.well-known/') ? next() : own(ctx, next);
  });
  app.use(deps.protocol);
  // Whatever escapes every handler has been answered 500 by Koa; it is logged here, once.
  app.on('error', (error: unknown, ctx?: Context) => {
    logger.error({ req_id: ctx?.state.reqId, err: error }, 'unhandled error');
  });
  return app;
}
