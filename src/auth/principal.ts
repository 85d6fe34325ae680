import type { X509Certificate } from 'node:crypto';
import type Provider from 'oidc-provider';
import { ADMIN_SCOPE_SET as ADMIN_SCOPES } from '../config.js';
import { thumbprint } from '../pki/certificates.js';
import type { ClientStore, UserRecord } from '../stores/client-store.js';

/** Who is calling the admin API, and within which tenant. */
export interface Principal {
  accountId: string;
  /** `client:<client_id>` or `user:<user_id>`, as recorded in the audit log. */
  actor: string;
  clientId: string;
  /** The signed-in user of a user's token; null for a client's own token. */
  userId: string | null;
  scopes: ReadonlySet<string>;
}

/**
 * What a user's token may do in the admin API: its scopes as far as the user's role allows.
 * A `member` holds none of the admin API's scopes whatever a client asked for, and only users of
 * account `default` hold `accounts:admin`, as only its clients may.
 */
export function userScopes(
  user: Pick<UserRecord, 'role' | 'account_id'>,
  scopes: Iterable<string>,
): Set<string> {
  return new Set(
    [...scopes].filter(
      (scope) =>
        !ADMIN_SCOPES.has(scope) ||
        (user.role === 'admin' && (scope !== 'accounts:admin' || user.account_id === 'default')),
    ),
  );
}

/** Why a bearer token does not make a principal (the text of `401 invalid_token`). */
export class InactiveTokenError extends Error {
  constructor(description = 'the access token is not active') {
    super(description);
    this.name = 'InactiveTokenError';
  }
}

/**
 * Resolves bearer tokens to principals through oidc-provider's own token models (so expiry and
 * consumption rules are the protocol's). The tenant is the account of the token's user, or
 * else of its client. A disabled or deleted client or user makes the token worthless at once,
 * and so does a certificate-bound token that comes without its certificate.
 */
export function createPrincipalService(deps: {
  /** The provider of the current signing keys. */
  provider: () => Provider;
  clientStore: ClientStore;
}) {
  const { clientStore } = deps;
  return {
    /** The principal of `value`, presented with `certificate` (or none); {@link InactiveTokenError} otherwise. */
    async fromToken(value: string, certificate: X509Certificate | undefined): Promise<Principal> {
      const provider = deps.provider();
      const token =
        (await provider.ClientCredentials.find(value)) ?? (await provider.AccessToken.find(value));
      if (!token?.isValid) throw new InactiveTokenError();
      // RFC 8705 section 3: a certificate-bound token is worth nothing without its certificate.
      const bound = token['x5t#S256'];
      if (bound && (!certificate || thumbprint(certificate) !== bound)) {
        throw new InactiveTokenError(
          'the access token is bound to a client certificate that was not presented',
        );
      }
      const client = token.clientId ? await clientStore.getClient(token.clientId) : null;
      if (!client || client.disabled) throw new InactiveTokenError();
      const scopes = (token.scope ?? '').split(' ').filter(Boolean);
      const subject = (token as { accountId?: string }).accountId;
      if (!subject) {
        return {
          accountId: client.account_id,
          actor: `client:${client.client_id}`,
          clientId: client.client_id,
          userId: null,
          scopes: new Set(scopes),
        };
      }
      const user = await clientStore.getUser(subject);
      if (!user || user.disabled) throw new InactiveTokenError();
      return {
        accountId: user.account_id,
        actor: `user:${user.id}`,
        clientId: client.client_id,
        userId: user.id,
        scopes: userScopes(user, scopes),
      };
    },
  };
}

export type PrincipalService = ReturnType<typeof createPrincipalService>;
