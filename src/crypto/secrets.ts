import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';

/**
 * argon2id at OWASP's minimum recommendation (19 MiB, 2 passes, 1 lane): ~40 ms of CPU per
 * check on these machines. Parameters live in each hash, so raising them later only affects new
 * hashes.
 */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** A new client secret: 256 bits from the CSPRNG, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** argon2id hash of a secret or password, in PHC string form. */
export function hashSecret(plain: string): Promise<string> {
  return argon2.hash(plain, ARGON2_OPTIONS);
}

/** Checks `plain` against a PHC hash; a malformed hash counts as a mismatch. */
export async function verifySecret(hash: string, plain: string): Promise<boolean> {
  if (!hash.startsWith('$argon2')) return false;
  try {
    return await argon2.verify(hash, plain);
  } catch {
    return false;
  }
}
