import type { Context, Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { requestCertificate, type CertificateSource } from '../pki/request-certificate.js';
import { CLIENT_AUTH_ROUTES, ROUTES } from './create-provider.js';

/**
 * oidc-provider's texts for the two answers it gives in another shape than RFC 6749 and the
 * README require, with no setting to change them. Pinned, with the upstream files they come
 * from, by test/oauth/upstream-behaviour.test.ts: an upgrade that changes them fails there.
 */
export const UPSTREAM = {
  /** `lib/shared/client_auth.js`: `400 invalid_request` for a request without client authentication. */
  noClientAuth: 'no client authentication mechanism provided',
  /** `lib/actions/token.js`: `400 invalid_request` for a grant the client is not registered for. */
  grantNotAllowed: 'requested grant type is not allowed for this client',
} as const;

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'client authentication failed' };

/** Whether the request tried HTTP Basic client authentication. */
const triedBasic = (ctx: Context) => /^basic(\s|$)/i.test(ctx.get('authorization'));

/**
 * RFC 6749 section 5.2: a `401 invalid_client` to a request that tried HTTP Basic says which
 * scheme to use, as oidc-provider does for the 401s it makes itself.
 */
function challengeBasic(ctx: Context, issuer: string, description: string): void {
  if (!triedBasic(ctx) || ctx.response.get('www-authenticate')) return;
  ctx.set(
    'www-authenticate',
    `Basic realm="${issuer}", error="invalid_client", error_description="${description}"`,
  );
}

/**
 * The one place where oidc-provider's answers at the client-authenticating endpoints are brought
 * to RFC 6749 section 5.2 and the README, after the provider rendered them (it has no hook for
 * these answers):
 * - no client authentication at all is `401 invalid_client` (oidc-provider says `400
 *   invalid_request`; several mechanisms at once stay `invalid_request`);
 * - a grant type the client is not registered for is `400 unauthorized_client`;
 * - a client whose tokens are bound to its certificate and that came without one is `401
 *   invalid_client` for the authorization-code and refresh grants (oidc-provider says `400
 *   invalid_grant`; Tessera's client-credentials grant answers so itself);
 * - every 503 (a store down, the argon2 checks full) says when to retry.
 */
export function protocolErrors(issuer: string, source: CertificateSource): Middleware {
  return async function protocolErrors(ctx, next) {
    await next();
    if (ctx.status === 503 && !ctx.response.get('retry-after')) ctx.set('retry-after', '1');
    if (!CLIENT_AUTH_ROUTES.has(ctx.path)) return;
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    const { oidc } = ctx as Partial<KoaContextWithOIDC>;
    if (
      ctx.status === 400 &&
      body?.error === 'invalid_request' &&
      body.error_description === UPSTREAM.noClientAuth
    ) {
      ctx.status = 401;
      ctx.body = { error: 'invalid_client', error_description: 'no client authentication was included' };
    } else if (
      ctx.status === 400 &&
      body?.error === 'invalid_request' &&
      body.error_description === UPSTREAM.grantNotAllowed
    ) {
      ctx.body = { error: 'unauthorized_client', error_description: UPSTREAM.grantNotAllowed };
    } else if (
      ctx.status === 400 &&
      ctx.path === ROUTES.token &&
      body?.error === 'invalid_grant' &&
      oidc?.client?.tlsClientCertificateBoundAccessTokens &&
      !requestCertificate(ctx, source)
    ) {
      ctx.status = 401;
      ctx.body = INVALID_CLIENT;
    }
    const answer = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    if (ctx.status === 401 && answer?.error === 'invalid_client') {
      challengeBasic(ctx, issuer, String(answer.error_description ?? ''));
    }
  };
}
