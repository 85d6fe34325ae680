import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import { AppError } from '../errors.js';
import { thumbprint } from '../pki/certificates.js';
import { requestCertificate, type CertificateSource } from '../pki/request-certificate.js';
import type { ClientStore } from '../stores/client-store.js';

/** Who is calling the admin API, and within which tenant. */
export interface Principal {
  accountId: string;
  /** `client:<client_id>` or `user:<user_id>`, as recorded in the audit log. */
  actor: string;
  clientId: string;
  scopes: ReadonlySet<string>;
}

const invalidToken = (description: string) =>
  new AppError(401, 'invalid_token', description, {
    headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` },
  });

/**
 * Authenticates `Authorization: Bearer <token>` against the token store, through oidc-provider's
 * own token models (so expiry and consumption rules are the protocol's), and resolves the
 * tenant: the account of the token's user, or else of its client. A disabled or deleted client
 * or user makes the token worthless here, at once, and so does a certificate-bound token that
 * comes without its certificate.
 */
export function adminAuth(deps: {
  provider: Provider;
  clientStore: ClientStore;
  certificateSource: CertificateSource;
}): Middleware {
  const { provider, clientStore, certificateSource } = deps;
  return async function authenticateAdmin(ctx, next) {
    const header = ctx.get('authorization');
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
    if (!match?.[1]) throw invalidToken(header ? 'malformed Authorization header' : 'missing bearer token');
    const value = match[1];
    const token = (await provider.ClientCredentials.find(value)) ?? (await provider.AccessToken.find(value));
    if (!token?.isValid) throw invalidToken('the access token is not active');
    // RFC 8705 section 3: a certificate-bound token is worth nothing without its certificate.
    const bound = token['x5t#S256'];
    if (bound) {
      const cert = requestCertificate(ctx, certificateSource);
      if (!cert || thumbprint(cert) !== bound) {
        throw invalidToken('the access token is bound to a client certificate that was not presented');
      }
    }

    const client = token.clientId ? await clientStore.getClient(token.clientId) : null;
    if (!client || client.disabled) throw invalidToken('the access token is not active');
    let accountId = client.account_id;
    let actor = `client:${client.client_id}`;
    const subject = (token as { accountId?: string }).accountId;
    if (subject) {
      const user = await clientStore.getUser(subject);
      if (!user || user.disabled) throw invalidToken('the access token is not active');
      accountId = user.account_id;
      actor = `user:${user.id}`;
    }
    ctx.state.principal = {
      accountId,
      actor,
      clientId: client.client_id,
      scopes: new Set((token.scope ?? '').split(' ').filter(Boolean)),
    } satisfies Principal;
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
