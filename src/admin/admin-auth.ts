import type { Middleware } from 'koa';
import { InactiveTokenError, type Principal, type PrincipalService } from '../auth/principal.js';
import { AppError } from '../errors.js';
import { requestCertificate, type CertificateSource } from '../pki/request-certificate.js';

const invalidToken = (description: string) =>
  new AppError(401, 'invalid_token', description, {
    headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` },
  });

/** Authenticates `Authorization: Bearer <token>` and puts the caller in `ctx.state.principal`. */
export function adminAuth(deps: {
  principals: PrincipalService;
  certificateSource: CertificateSource;
}): Middleware {
  const { principals, certificateSource } = deps;
  return async function authenticateAdmin(ctx, next) {
    const header = ctx.get('authorization');
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    // RFC 6750 section 3.1: a request without any credentials gets a challenge without an error code.
    if (!header) {
      throw new AppError(401, 'invalid_token', 'missing bearer token', {
        headers: { 'www-authenticate': 'Bearer realm="tessera"' },
      });
    }
    if (!match?.[1]) throw invalidToken('malformed Authorization header');
    try {
      ctx.state.principal = await principals.fromToken(match[1], requestCertificate(ctx, certificateSource));
    } catch (error) {
      if (error instanceof InactiveTokenError) throw invalidToken(error.message);
      throw error;
    }
    await next();
  };
}

/** Requires the token to carry at least one of `anyOf`. */
export function requireScope(...anyOf: string[]): Middleware {
  const listed = anyOf.join(' ');
  return async function checkScope(ctx, next) {
    const principal = ctx.state.principal as Principal;
    if (!anyOf.some((scope) => principal.scopes.has(scope))) {
      throw new AppError(403, 'insufficient_scope', `this call needs one of the scopes: ${listed}`, {
        headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${listed}"` },
      });
    }
    await next();
  };
}
