import type { KoaContextWithOIDC } from 'oidc-provider';
import { scopeList, type ScopeCatalog } from '../scopes/scope-catalog.js';

/**
 * The one owner of request-side scope expansion (README, "Scope catalog"): asking for a scope
 * is asking for everything it implies. oidc-provider grants exactly the scopes a request names,
 * and has no setting for implied scopes, so Tessera widens the `scope` parameter after
 * oidc-provider parsed and checked it (`ctx.oidc.params`), never the request itself. Each
 * request is widened once, where the provider hands it over:
 * - authorization and pushed authorization requests: the `extraParams` validator of `scope`,
 *   which oidc-provider runs once the request's parameters are checked (the library's own recipe
 *   for a default scope does the same);
 * - a refresh that narrows its scope: the refresh grant's `rotateRefreshToken` call, the one
 *   hook that runs between its scope check and the new access token;
 * - client credentials: Tessera's own grant (client-credentials.ts), through {@link expand}.
 * Deployments whose scopes imply nothing change nothing here.
 */
export interface RequestedScope {
  /** The scopes and everything they imply, in catalog order (unknown scopes kept, last). */
  expand(scopes: readonly string[]): string[];
  /** Widens the parsed `scope` parameter of the request in place, if it names any scope. */
  widen(ctx: KoaContextWithOIDC): void;
}

export function requestedScope(catalog: Pick<ScopeCatalog, 'expand' | 'hasImplications'>): RequestedScope {
  const expand = (scopes: readonly string[]) => catalog.expand(scopes);
  return {
    expand,
    widen(ctx) {
      const params = ctx.oidc.params as { scope?: unknown } | undefined;
      if (!catalog.hasImplications || typeof params?.scope !== 'string') return;
      const requested = scopeList(params.scope);
      const all = expand(requested);
      if (all.length > new Set(requested).size) params.scope = all.join(' ');
    },
  };
}
