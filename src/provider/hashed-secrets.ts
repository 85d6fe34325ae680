import Provider, { errors } from 'oidc-provider';
import type { ClientDirectory } from '../clients/client-directory.js';
import type { ProviderSecret } from '../clients/client-model.js';
import type { SecretChecker } from '../crypto/secret-checker.js';

/** What oidc-provider says when a client used another method than its registered one. */
export const WRONG_METHOD =
  'the provided authentication mechanism does not match the registered client authentication method';

/**
 * Tessera's secret check, through oidc-provider's `compareClientSecret` hook. It differs from
 * the provider's in two ways (upstream: `lib/shared/client_auth.js`, pinned by
 * test/oauth/upstream-behaviour.test.ts):
 * - a client holds several secrets, stored as argon2id hashes (`client_secrets`), which the
 *   provider's plaintext compare of one `client_secret` cannot check; a flood of checks answers
 *   503 (SecretChecksBusyError renders so) rather than queueing. The secret that matched is
 *   told to `secretUsed` (its `last_used_at`, written later and off this path);
 * - a client is held to its registered method (RFC 7591 section 2): oidc-provider lets a
 *   `client_secret_basic` client send its secret in the body and the reverse. A mismatch is
 *   refused before any hashing, as `401 invalid_client`.
 */
export function installHashedSecretCheck(
  provider: Provider,
  deps: {
    secrets: SecretChecker;
    directory: Pick<ClientDirectory, 'secretCheck'>;
    secretUsed?: (clientId: string, secretId: string) => void;
  },
): void {
  provider.Client.prototype.compareClientSecret = async function compareHashedSecret(presented: string) {
    // oidc-provider reads a secret from the Authorization header only when the body has none.
    const usedBasic = !Provider.ctx?.oidc.params?.client_secret;
    if (usedBasic !== (this.clientAuthMethod === 'client_secret_basic')) {
      throw new errors.InvalidClientAuth(WRONG_METHOD);
    }
    const stored = (this['client_secrets'] ?? []) as ProviderSecret[];
    const id = await deps.secrets.checkClientSecret(
      this.clientId,
      stored,
      presented,
      deps.directory.secretCheck(),
    );
    if (id === undefined) return false;
    deps.secretUsed?.(this.clientId, id);
    return true;
  };
}
