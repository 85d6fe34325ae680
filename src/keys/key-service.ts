import type { AuditService } from '../audit/audit-service.js';
import type { Principal } from '../auth/principal.js';
import type { SigningAlg, SigningKeys } from './signing-keys.js';

/** How long before it signs a scheduled key is published (README, "Signing keys"). */
export const SCHEDULED_LEAD_SECONDS = 24 * 3600;

/** The actor of the audit entries of scheduled rotations. */
export const SCHEDULE_ACTOR = 'system:key-schedule';

/** Signing-key rotation and the list of keys (contract section 12), without private parts. */
export function createKeyService(deps: {
  signingKeys: SigningKeys;
  audit: AuditService;
  /** The algorithm of JWT access tokens, whose new key a rotation answers with. */
  jwtAlg: SigningAlg;
  /** `TESSERA_KEY_ROTATION_DAYS`, or undefined when keys rotate only when asked. */
  rotationDays: number | undefined;
  /** Puts the new keys to use in this process at once (other nodes within a second). */
  afterRotation: () => Promise<void>;
}) {
  const { signingKeys, audit } = deps;

  async function recorded(
    accountId: string,
    actor: string,
    rotated: { current: Record<SigningAlg, string>; activatesAt: string; replaced: string[] },
  ) {
    await deps.afterRotation();
    const kid = rotated.current[deps.jwtAlg];
    await audit.record(accountId, actor, 'keys.rotate', `key:${kid}`, {
      added: Object.values(rotated.current),
      activates_at: rotated.activatesAt,
      ...(rotated.replaced.length ? { replaced: rotated.replaced } : {}),
    });
    return { kid, activates_at: rotated.activatesAt };
  }

  return {
    /** `POST /keys/rotate`: new keys, published now, signing from `activateIn` seconds on. */
    async rotate(principal: Principal, activateIn = 0): Promise<{ kid: string; activates_at: string }> {
      return recorded(principal.accountId, principal.actor, await signingKeys.rotate(activateIn));
    },

    /**
     * The schedule's check, run by every node now and then: rotates when due, the new keys
     * published a day before they sign. Of nodes checking at once, one rotates.
     */
    async rotateIfDue(): Promise<{ kid: string; activates_at: string } | undefined> {
      if (deps.rotationDays === undefined) return undefined;
      const rotated = await signingKeys.rotateIfDue(deps.rotationDays, SCHEDULED_LEAD_SECONDS);
      return rotated && recorded('default', SCHEDULE_ACTOR, rotated);
    },

    async list() {
      return { data: signingKeys.view(await signingKeys.ring()) };
    },
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
