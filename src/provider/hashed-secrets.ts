import Provider, { errors } from 'oidc-provider';
import type { ClientDirectory } from '../clients/client-directory.js';
import type { SecretChecker } from '../crypto/secret-checker.js';

/** What oidc-provider says when a client used another method than its registered one. */
export const WRONG_METHOD =
  'the provided authentication mechanism does not match the registered client authentication method';

/**
 * Tessera's secret check, through oidc-provider's `compareClientSecret` hook. It differs from
 * the provider's in two ways (upstream: `lib/shared/client_auth.js`, pinned by
 * test/oauth/upstream-behaviour.test.ts):
 * - secrets are stored as argon2id hashes, which the provider's plaintext compare cannot check;
 *   a flood of checks answers 503 (SecretChecksBusyError renders so) rather than queueing;
 * - a client is held to its registered method (RFC 7591 section 2): oidc-provider lets a
 *   `client_secret_basic` client send its secret in the body and the reverse. A mismatch is
 *   refused before any hashing, as `401 invalid_client`.
 */
export function installHashedSecretCheck(
  provider: Provider,
  deps: { secrets: SecretChecker; directory: Pick<ClientDirectory, 'secretCheck'> },
): void {
  provider.Client.prototype.compareClientSecret = function compareHashedSecret(presented: string) {
    // oidc-provider reads a secret from the Authorization header only when the body has none.
    const usedBasic = !Provider.ctx?.oidc.params?.client_secret;
    if (usedBasic !== (this.clientAuthMethod === 'client_secret_basic')) {
      throw new errors.InvalidClientAuth(WRONG_METHOD);
    }
    const previousExpiry = this['previous_secret_expires_at'];
    const hashes = {
      current: String(this.clientSecret ?? ''),
      previous: typeof this['previous_secret_hash'] === 'string' ? this['previous_secret_hash'] : undefined,
      previousExpiresAt: typeof previousExpiry === 'string' ? Date.parse(previousExpiry) : undefined,
    };
    return deps.secrets.checkClientSecret(this.clientId, hashes, presented, deps.directory.secretCheck());
  };
}
