import type { ModelAdapter, TokenStore } from '../stores/token-store.js';

/** How long an unused consent is remembered; each new consent starts the period again. */
const REMEMBERED_SECONDS = 400 * 24 * 3600;

/**
 * The scopes each user granted each client, remembered across sign-ins (contract 5.1,
 * `require_consent`). Kept in the token store beside the grants, under the client's id, so
 * deleting the client forgets them with its tokens.
 */
export function createConsents(tokenStore: TokenStore) {
  const store: ModelAdapter = tokenStore.adapter('Consent');
  const idOf = (userId: string, clientId: string) => `${userId} ${clientId}`;

  const granted = async (userId: string, clientId: string): Promise<Set<string>> => {
    const found = await store.find(idOf(userId, clientId));
    return new Set(typeof found?.scope === 'string' ? found.scope.split(' ') : []);
  };

  return {
    granted,
    /** Adds `scopes` to what `userId` granted `clientId`. */
    async remember(userId: string, clientId: string, scopes: readonly string[]): Promise<void> {
      const all = await granted(userId, clientId);
      scopes.forEach((scope) => all.add(scope));
      await store.upsert(
        idOf(userId, clientId),
        { clientId, accountId: userId, scope: [...all].filter(Boolean).join(' ') },
        REMEMBERED_SECONDS,
      );
    },
  };
}

export type Consents = ReturnType<typeof createConsents>;
