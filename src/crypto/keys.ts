import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { ClientStore } from '../stores/client-store.js';

export interface PrivateJwks {
  keys: Record<string, unknown>[];
}

function signingKey(type: 'rsa' | 'ec', alg: string): Record<string, unknown> {
  const { privateKey } =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, use: 'sig' };
}

/**
 * The signing keys and cookie keys of this deployment, created on the first start and kept in
 * the client store, so restarts and every other process on the same store use the same ones.
 */
export async function loadKeyMaterial(
  store: ClientStore,
): Promise<{ jwks: PrivateJwks; cookieKeys: string[] }> {
  const jwks = await store.ensureSecretValue<PrivateJwks>('jwks', () => ({
    keys: [signingKey('rsa', 'RS256'), signingKey('ec', 'ES256')],
  }));
  const cookieKeys = await store.ensureSecretValue<string[]>('cookie-keys', () => [
    randomBytes(32).toString('base64url'),
  ]);
  return { jwks, cookieKeys };
}
