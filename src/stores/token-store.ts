/**
 * The token store port: where oidc-provider keeps every model but `Client` (access tokens,
 * client-credentials tokens, codes, refresh tokens, grants, sessions, interactions, replay
 * detection, ...), and nothing else. Implementations live in `adapters/` (SQLite, Redis) and must pass
 * `test/adapters/token-store-contract.ts`.
 *
 * Rules every implementation keeps:
 * - a record is never returned after its `expiresIn` has passed, and expired records are
 *   removed eventually without anyone reading them;
 * - `consume(id)` marks the record so that a later `find` returns it with `consumed` set;
 * - `revokeByGrantId` removes every record of every model that carries that `grantId`;
 * - `revokeByClientId` removes every record of every model that carries that `clientId`, except
 *   that a store may leave client-credentials tokens to expire with their lifetime (the Redis
 *   store does, to keep their write a single SET). Nothing
 *   relies on their removal: the provider accepts no record whose client is deleted or disabled
 *   (`currentClientsOnly` in src/provider/create-provider.ts).
 */

/** The payload oidc-provider hands to an adapter; opaque to the store except the indexed fields. */
export interface TokenPayload {
  [key: string]: unknown;
  grantId?: string;
  clientId?: string;
  uid?: string;
  userCode?: string;
  consumed?: unknown;
}

/** oidc-provider's adapter interface, for one model. */
export interface ModelAdapter {
  upsert(id: string, payload: TokenPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<TokenPayload | undefined>;
  findByUid(uid: string): Promise<TokenPayload | undefined>;
  findByUserCode(userCode: string): Promise<TokenPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export interface TokenStore {
  /** The adapter for one oidc-provider model. Synchronous: oidc-provider calls it as a factory. */
  adapter(model: string): ModelAdapter;
  /** Removes every record that carries `clientId`, across all models (see above for client-credentials tokens). */
  revokeByClientId(clientId: string): Promise<void>;
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
