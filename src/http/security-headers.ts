import helmet from 'koa-helmet';
import type { Middleware } from 'koa';

/**
 * The security headers of contract sections 7 and 8, on every response: pages may load only
 * Tessera's own scripts and styles, and may not be framed; no referrer leaves; HSTS only where
 * the issuer is https. `form-action` is left out: the sign-in form ends in a redirect to the
 * client's own redirect URI, which the browser would block under `form-action 'self'`.
 */
export function securityHeaders(issuer: string): Middleware {
  const https = new URL(issuer).protocol === 'https:';
  return helmet({
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
}
