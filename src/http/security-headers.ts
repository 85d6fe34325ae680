import helmet from 'helmet';
import type { Middleware } from 'koa';

const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * The security headers of the README ("Operations"): every response says `nosniff` (and, with
 * an https issuer, HSTS); HTML pages (sign-in, consent, errors, console) also get helmet's set:
 * they may load only Tessera's own scripts and styles, may not be framed, and send no referrer.
 * JSON answers, which a browser never renders, skip the rest: on the token path it was a tenth
 * of the CPU per token. `form-action` is left out: the sign-in form ends in a redirect to the
 * client's own redirect URI, which the browser would block under `form-action 'self'`.
 */
export function securityHeaders(issuer: string): Middleware {
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
  return async function securityHeaders(ctx, next) {
    ctx.set('x-content-type-options', 'nosniff');
    if (https) ctx.set('strict-transport-security', HSTS);
    await next();
    // helmet's middleware is synchronous; the response has not been written yet.
    if (ctx.response.is('html')) pageHeaders(ctx.req, ctx.res, () => undefined);
  };
}
