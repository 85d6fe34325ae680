import { randomBytes } from 'node:crypto';
import type { ClientStore } from '../stores/client-store.js';

/**
 * The cookie keys of this deployment, created on the first start and kept in the client store,
 * so restarts and every other process on the same store use the same ones.
 */
export async function loadCookieKeys(store: ClientStore): Promise<string[]> {
  return store.ensureSecretValue<string[]>('cookie-keys', () => [randomBytes(32).toString('base64url')]);
}
