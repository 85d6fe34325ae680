import type { X509Certificate } from 'node:crypto';
import type Provider from 'oidc-provider';
import { thumbprint } from '../pki/certificates.js';
import type { ClientStore } from '../stores/client-store.js';

/** Who is calling the admin API, and within which tenant. */
export interface Principal {
  accountId: string;
  /** `client:<client_id>` or `user:<user_id>`, as recorded in the audit log. */
  actor: string;
  clientId: string;
  scopes: ReadonlySet<string>;
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
export function createPrincipalService(deps: { provider: Provider; clientStore: ClientStore }) {
  const { provider, clientStore } = deps;
  return {
    /** The principal of `value`, presented with `certificate` (or none); {@link InactiveTokenError} otherwise. */
    async fromToken(value: string, certificate: X509Certificate | undefined): Promise<Principal> {
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
      let accountId = client.account_id;
      let actor = `client:${client.client_id}`;
      const subject = (token as { accountId?: string }).accountId;
      if (subject) {
        const user = await clientStore.getUser(subject);
        if (!user || user.disabled) throw new InactiveTokenError();
        accountId = user.account_id;
        actor = `user:${user.id}`;
      }
      return {
        accountId,
        actor,
        clientId: client.client_id,
        scopes: new Set((token.scope ?? '').split(' ').filter(Boolean)),
      };
    },
  };
}

export type PrincipalService = ReturnType<typeof createPrincipalService>;
