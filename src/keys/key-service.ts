import type { AuditService } from '../audit/audit-service.js';
import type { Principal } from '../auth/principal.js';
import type { SigningAlg, SigningKeys } from './signing-keys.js';

/** Signing-key rotation and the list of keys (contract section 12), without private parts. */
export function createKeyService(deps: {
  signingKeys: SigningKeys;
  audit: AuditService;
  /** The algorithm of JWT access tokens, whose new key a rotation answers with. */
  jwtAlg: SigningAlg;
  /** Puts the new keys to use in this process at once (other nodes within a second). */
  afterRotation: () => Promise<void>;
}) {
  const { signingKeys, audit } = deps;
  return {
    async rotate(principal: Principal): Promise<{ kid: string }> {
      const { current, retired } = await signingKeys.rotate();
      await deps.afterRotation();
      const kid = current[deps.jwtAlg];
      await audit.record(principal.accountId, principal.actor, 'keys.rotate', `key:${kid}`, {
        current: Object.values(current),
        retired,
      });
      return { kid };
    },

    async list() {
      return { keys: signingKeys.view(await signingKeys.ring()) };
    },
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
