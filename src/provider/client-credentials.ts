import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { errors } from 'oidc-provider';
import {
  handler as builtInHandler,
  parameters,
} from 'oidc-provider/lib/actions/grants/client_credentials.js';
import * as grantHelpers from 'oidc-provider/lib/helpers/grants.js';

/**
 * Registers Tessera's `client_credentials` grant: the provider's own handler, preceded by the
 * scope rules of the contract that it does not have — no `scope` means every scope the client
 * is allowed, and any requested scope outside that set (including ones the deployment does not
 * know, which the built-in handler would let through) is `invalid_scope`.
 */
export function registerClientCredentialsGrant(provider: Provider): void {
  const helpers = Object.fromEntries(
    Object.entries(grantHelpers).map(([name, helper]) => [
      name,
      typeof helper === 'function' ? helper.bind(undefined, provider) : helper,
    ]),
  );

  // The scopes a client is allowed, and all of them as one parameter, by Client object: the
  // provider keeps one for as long as the client's metadata is unchanged (create-provider.ts),
  // so a change brings a new set.
  interface Allowed {
    scopes: Set<string>;
    all: string | undefined;
  }
  const allowedScopes = new WeakMap<object, Allowed>();
  const allowedOf = (client: { scope?: string | undefined }): Allowed => {
    let allowed = allowedScopes.get(client);
    if (!allowed) {
      const scopes = new Set((client.scope ?? '').split(' ').filter(Boolean));
      allowed = { scopes, all: [...scopes].join(' ') || undefined };
      allowedScopes.set(client, allowed);
    }
    return allowed;
  };

  function clientCredentialsWithScopeRules(ctx: KoaContextWithOIDC): Promise<void> {
    const allowed = allowedOf(ctx.oidc.client!);
    const params = ctx.oidc.params as { scope?: string | undefined };
    // Most requests ask for one allowed scope, or for all of them as registered.
    if (params.scope && (allowed.scopes.has(params.scope) || params.scope === allowed.all)) {
      return builtInHandler(provider, helpers, ctx);
    }
    const requested = params.scope ? params.scope.split(' ').filter(Boolean) : [];
    if (requested.length === 0) {
      params.scope = allowed.all;
    } else {
      const refused = requested.filter((scope) => !allowed.scopes.has(scope));
      if (refused.length > 0) {
        throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
      }
    }
    return builtInHandler(provider, helpers, ctx);
  }

  provider.registerGrantType('client_credentials', clientCredentialsWithScopeRules, [...parameters]);
}
