// oidc-provider ships no declarations for its internals; Tessera wraps one built-in grant
// handler (see client-credentials.ts) and declares only what it touches.
declare module 'oidc-provider/lib/actions/grants/client_credentials.js' {
  import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
  export const handler: (
    provider: Provider,
    helpers: Record<string, unknown>,
    ctx: KoaContextWithOIDC,
  ) => Promise<void>;
  export const parameters: Set<string>;
}
declare module 'oidc-provider/lib/helpers/grants.js' {
  const helpers: Record<string, (...args: unknown[]) => unknown>;
  export = helpers;
}
