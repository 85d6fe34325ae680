import helmet from 'helmet';
import type { Context, Middleware } from 'koa';

const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * The security headers of the README ("Operations"): every response says `nosniff` (and, with
 * an https issuer, HSTS); HTML pages (sign-in, consent, errors, console) also get helmet's set:
 * they may load only Tessera's own scripts and styles, may not be framed, and send no referrer.
 * JSON answers, which a browser never renders, skip the rest: on the token path it was a tenth
 * of the CPU per token. `form-action` is left out: the sign-in form ends in a redirect to the
 * client's own redirect URI, which the browser would block under `form-action 'self'`.
 */
export function securityHeaders(issuer: string, browserPaths: readonly string[] = []): Middleware {
  const https = new URL(issuer).protocol === 'https:';
  const pageHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: https ? { maxAge: 31536000, includeSubDomains: true } : false,
    // Tessera's sign-in pages are opened from other origins' links, and open nothing themselves.
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
  });
  // helmet's middleware is synchronous; the response has not been written yet.
  const setPageHeaders = (ctx: Context) => pageHeaders(ctx.req, ctx.res, () => undefined);
  return async function securityHeaders(ctx, next) {
    ctx.set('x-content-type-options', 'nosniff');
    if (https) ctx.set('strict-transport-security', HSTS);
    // oidc-provider's own auto-submitting forms (a logout without a session) add their script's
    // hash to a policy set before them, so its browser paths get the policy first.
    const early = browserPaths.some((path) => ctx.path === path || ctx.path.startsWith(`${path}/`));
    if (early) setPageHeaders(ctx);
    await next();
    if (!early && ctx.response.is('html')) setPageHeaders(ctx);
  };
}
