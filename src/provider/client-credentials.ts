import type { X509Certificate } from 'node:crypto';
import type { KoaContextWithOIDC, Provider, ResourceServer } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { scopeList } from '../scopes/scope-catalog.js';
import type { RequestedScope } from './requested-scope.js';

/**
 * Registers Tessera's `client_credentials` grant in place of the built-in one (upstream:
 * `lib/actions/grants/client_credentials.js`, whose behaviour test/oauth/upstream-behaviour.test.ts
 * pins), built on the provider's public model classes and `registerGrantType`. It keeps the
 * README's scope rules, which the built-in handler does not have: no `scope` means every scope
 * the client is allowed, and any requested scope outside that set (including ones the
 * deployment does not know, which the built-in grant drops silently) is `invalid_scope`. The
 * client's allowed set already holds what its scopes imply; the granted scope is the request
 * and what it implies, in catalog order (README, "Scope catalog"). Tokens of a client
 * registered for certificate binding are bound to the certificate of the request (RFC 8705).
 */
export function registerClientCredentialsGrant(
  provider: Provider,
  certificateOf: (ctx: KoaContextWithOIDC) => X509Certificate | undefined,
  scopes: Pick<RequestedScope, 'expand'>,
  resourceServerInfo: (
    ctx: KoaContextWithOIDC,
    identifier: string,
    client: { [key: string]: unknown },
  ) => Promise<ResourceServer>,
): void {
  /** RFC 8707 for this grant: at most one `resource`, an absolute URI, one the client may use. */
  async function requestedResource(ctx: KoaContextWithOIDC) {
    const param: unknown = ctx.oidc.params?.resource;
    if (param === undefined) return undefined;
    const identifiers = Array.isArray(param) ? param : [param];
    if (identifiers.length !== 1) {
      throw new errors.InvalidTarget(
        'only a single resource indicator value is supported for this grant type',
      );
    }
    const identifier = String(identifiers[0]);
    if (!URL.canParse(identifier) || identifier.includes('#')) {
      throw new errors.InvalidTarget('resource indicator must be an absolute URI without a fragment');
    }
    const client = ctx.oidc.client! as unknown as { [key: string]: unknown };
    return new provider.ResourceServer(identifier, await resourceServerInfo(ctx, identifier, client));
  }

  async function clientCredentialsGrant(ctx: KoaContextWithOIDC): Promise<void> {
    const client = ctx.oidc.client!;
    const allowed = scopeList(client.scope);
    const requested = scopeList(String(ctx.oidc.params?.scope ?? ''));
    const refused = [...new Set(requested)].filter((scope) => !allowed.includes(scope));
    if (refused.length > 0) {
      throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
    }
    let granted = requested.length > 0 ? scopes.expand(requested) : allowed;
    const resourceServer = await requestedResource(ctx);
    // A token for a resource carries only the scopes that resource takes.
    if (resourceServer) granted = granted.filter((scope) => resourceServer.scopes.has(scope));
    const token = new provider.ClientCredentials({ client, scope: granted.join(' ') || undefined });
    if (resourceServer) token.resourceServer = resourceServer;
    if (client.tlsClientCertificateBoundAccessTokens) {
      const certificate = certificateOf(ctx);
      // RFC 8705 via the README ("Certificates"): no certificate where one is needed is 401 invalid_client.
      if (!certificate) throw new errors.InvalidClientAuth('mutual TLS client certificate not provided');
      token.setThumbprint('x5t', certificate);
    }
    ctx.oidc.entity('ClientCredentials', token);
    const accessToken = await token.save();
    ctx.body = {
      access_token: accessToken,
      expires_in: token.expiration,
      scope: token.scope || undefined,
      token_type: token.tokenType,
    };
  }

  provider.registerGrantType(
    'client_credentials',
    clientCredentialsGrant,
    ['scope', 'resource'],
    ['resource'],
  );
}
