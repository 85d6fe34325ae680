import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Context, Middleware } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ClientDirectory } from '../clients/client-directory.js';
import type { KeySet, PrivateJwks } from '../keys/signing-keys.js';
import type { TokenStore } from '../stores/token-store.js';
import { mayIntrospect, NOT_OWN_TOKEN, ROUTES } from './create-provider.js';

/** The members of a private JWK that are not part of its public half. */
const PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);

/** The public keys of `jwks`, as `/oauth/jwks` publishes them. */
export const publicJwks = (jwks: PrivateJwks) => ({
  keys: jwks.keys.map((key) =>
    Object.fromEntries(Object.entries(key).filter(([name]) => !PRIVATE_MEMBERS.has(name))),
  ),
});

interface AccessTokenClaims extends JWTPayload {
  jti: string;
  client_id: string;
  exp: number;
  grant_id?: string;
}

const INACTIVE = { active: false };

/**
 * Introspection and revocation of JWT access tokens (RFC 9068), which oidc-provider refuses as
 * `unsupported_token_type` with no setting to change it (upstream: `lib/shared/
 * reject_structured_tokens.js`, pinned by test/oauth/upstream-behaviour.test.ts). After the
 * provider authenticated the caller and refused the token so, and only then, a JWT signed
 * here is checked by signature, lifetime, the denylist of revoked `jti`s (kept in the token
 * store until the token's `exp`), its client being current, and the grant it came from still
 * existing. Revoking one adds its `jti` to the denylist, on every node at once.
 */
export function jwtAccessTokens(deps: {
  issuer: string;
  /** The key set in use now. */
  keys: () => KeySet;
  /** The key set as the store has it now: a token may come from a node that learnt of a rotation first. */
  refreshKeys: () => Promise<KeySet>;
  directory: Pick<ClientDirectory, 'current'>;
  tokenStore: TokenStore;
  now?: () => number;
}): Middleware {
  const denylist = deps.tokenStore.adapter('RevokedAccessToken');
  const now = deps.now ?? Date.now;
  let local: { id: string; verify: ReturnType<typeof createLocalJWKSet> } | undefined;
  const verifierOf = (keys: KeySet) => {
    if (local?.id !== keys.id)
      local = { id: keys.id, verify: createLocalJWKSet(publicJwks(keys.jwks) as never) };
    return local.verify;
  };
  const verify = (value: string, keys: KeySet) =>
    jwtVerify(value, verifierOf(keys), {
      issuer: deps.issuer,
      typ: 'at+jwt',
      algorithms: ['ES256', 'RS256'],
      currentDate: new Date(now()),
    });

  /** The claims of a JWT access token this server signed and that has not expired; else null. */
  async function verified(value: string): Promise<AccessTokenClaims | null> {
    try {
      const keys = deps.keys();
      const { payload } = await verify(value, keys).catch(async (error: unknown) => {
        if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
        const latest = await deps.refreshKeys();
        if (latest.id === keys.id) throw error;
        return verify(value, latest);
      });
      const { jti, client_id: clientId, exp } = payload;
      if (typeof jti !== 'string' || typeof clientId !== 'string' || typeof exp !== 'number') return null;
      return payload as AccessTokenClaims;
    } catch {
      return null;
    }
  }

  /** Whether the token of a current client still stands: not revoked, nor its grant. */
  async function stillActive(ctx: KoaContextWithOIDC, claims: AccessTokenClaims): Promise<boolean> {
    if (await denylist.find(claims.jti)) return false;
    if (claims.grant_id && !(await ctx.oidc.provider.Grant.find(claims.grant_id))) return false;
    return true;
  }

  async function answerForJwt(ctx: Context): Promise<void> {
    const introspection = ctx.path === ROUTES.introspection;
    // oidc-provider authenticates the caller, then refuses any JWT as a token it does not keep.
    const { oidc } = ctx as Partial<KoaContextWithOIDC>;
    const caller = oidc?.client;
    const value: unknown = oidc?.params?.token;
    const refusedJwt =
      ctx.status === 400 && (ctx.body as { error?: unknown } | undefined)?.error === 'unsupported_token_type';
    if (!refusedJwt || !caller || typeof value !== 'string') return;
    const context = ctx as KoaContextWithOIDC;
    const claims = await verified(value);
    ctx.status = 200;
    // A JWT that is not one of this server's live tokens: inactive, and nothing to revoke.
    if (!claims) {
      ctx.body = introspection ? INACTIVE : '';
      return;
    }

    if (!introspection) {
      // RFC 7009: a client revokes only its own tokens, as for stored ones.
      if (claims.client_id !== caller.clientId) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: NOT_OWN_TOKEN };
        return;
      }
      const remaining = Math.max(1, claims.exp - Math.floor(now() / 1000));
      await denylist.upsert(claims.jti, { jti: claims.jti }, remaining);
      ctx.body = '';
      return;
    }

    // The owner is looked up only while current (not disabled or deleted).
    const owner = await deps.directory.current(claims.client_id);
    if (!mayIntrospect(caller, owner?.['account_id']) || !(await stillActive(context, claims))) {
      ctx.body = INACTIVE;
      return;
    }
    const { grant_id: _grant, ...shown } = claims;
    ctx.body = { active: true, ...shown, token_type: 'Bearer' };
  }

  // Every other endpoint passes straight through.
  return function jwtAccessTokens(ctx, next) {
    if (ctx.path !== ROUTES.introspection && ctx.path !== ROUTES.revocation) return next();
    return next().then(() => answerForJwt(ctx));
  };
}
