import { LRUCache } from 'lru-cache';
import type { ClientStore } from '../stores/client-store.js';
import type { TokenStore } from '../stores/token-store.js';
import { toProviderMetadata, type ProviderClientMetadata } from './client-model.js';

interface Entry {
  /** The epoch of the client's account (a client's account never changes). */
  epoch: string;
  /** The epoch's mark when the entry was loaded. */
  mark: string;
  /** What oidc-provider gets; undefined when the client must not authenticate. */
  metadata: ProviderClientMetadata | undefined;
  loadedAt: number;
}

/** Epoch that moves whenever anything that decides a client's authentication changes in `accountId`. */
const epochOf = (accountId: string): string => `account:${accountId}`;

/**
 * Client lookups for oidc-provider, off the client store on the hot path.
 *
 * Every change to a client or user of an account moves that account's epoch in the token store
 * (shared by every process), before and after the write. A lookup reads the epoch — one cheap
 * read in Redis or the embedded file — and uses its cached entry only when it was loaded under
 * the same mark; otherwise it reloads from the client store. So a rotated, disabled, deleted or
 * re-certified client is seen in its new state by the very next request on every node. The mark
 * is read before the client, never after, so an entry can only be older than its mark, never
 * newer. Entries also expire after `maxAgeMs`, a backstop for a write whose closing epoch move
 * failed.
 */
export function createClientCache(deps: {
  clientStore: ClientStore;
  tokenStore: TokenStore;
  /** Off when clients can change where this process cannot see the epoch (no shared token store). */
  enabled: boolean;
  maxEntries?: number;
  maxAgeMs?: number;
}) {
  const { clientStore, tokenStore, enabled } = deps;
  const maxAgeMs = deps.maxAgeMs ?? 5 * 60_000;
  const entries = new LRUCache<string, Entry>({ max: deps.maxEntries ?? 10_000 });

  /**
   * The client's account and the client as oidc-provider should see it right now, straight from
   * the client store; undefined when there is no such client.
   */
  async function load(
    clientId: string,
  ): Promise<{ accountId: string; metadata: ProviderClientMetadata | undefined } | undefined> {
    const record = await clientStore.getClient(clientId);
    if (!record) return undefined;
    const accountId = record.account_id;
    // A client acting as a service user fails with it: missing or disabled means invalid_client,
    // and its live tokens introspect inactive.
    if (record.service_user_id !== null) {
      const user = await clientStore.getUser(record.service_user_id);
      if (!user || user.disabled || user.account_id !== accountId) return { accountId, metadata: undefined };
    }
    return { accountId, metadata: toProviderMetadata(record) };
  }

  const reload = async (clientId: string, epoch: string, mark: string) => {
    const loadedAt = Date.now();
    const metadata = (await load(clientId))?.metadata;
    entries.set(clientId, { epoch, mark, metadata, loadedAt });
    return metadata;
  };

  /** The entry's metadata if it was loaded under `mark` and is not too old, else loaded again. */
  const current = (clientId: string, entry: Entry, mark: string) =>
    entry.mark === mark && Date.now() - entry.loadedAt < maxAgeMs
      ? entry.metadata
      : reload(clientId, entry.epoch, mark);

  /**
   * First sight of a client: learn its account, then load it again under the account's mark.
   * An unknown id is not remembered, so made-up ids cannot fill the cache.
   */
  const firstSight = async (clientId: string): Promise<ProviderClientMetadata | undefined> => {
    const first = await load(clientId);
    if (first === undefined) return undefined;
    const epoch = epochOf(first.accountId);
    return reload(clientId, epoch, await tokenStore.readEpoch(epoch));
  };

  return {
    /** Whether lookups are cached (and the same metadata object is handed out while unchanged). */
    enabled,

    /**
     * The provider metadata of `clientId`, or undefined when it must not authenticate. Answers
     * without a promise when the entry is current and the store knew the mark without I/O.
     */
    metadata(
      clientId: string,
    ): ProviderClientMetadata | undefined | Promise<ProviderClientMetadata | undefined> {
      if (!enabled) return load(clientId).then((loaded) => loaded?.metadata);
      const entry = entries.get(clientId);
      if (entry === undefined) return firstSight(clientId);
      const mark = tokenStore.readEpoch(entry.epoch);
      return typeof mark === 'string'
        ? current(clientId, entry, mark)
        : mark.then((read) => current(clientId, entry, read));
    },

    /**
     * Runs a write that changes clients or users of `accountId`, moving the account's epoch
     * before and after it, so no process keeps using what the write replaced.
     */
    async change<T>(accountId: string, write: () => Promise<T>): Promise<T> {
      await tokenStore.bumpEpoch(epochOf(accountId));
      try {
        return await write();
      } finally {
        await tokenStore.bumpEpoch(epochOf(accountId));
      }
    },
  };
}

export type ClientCache = ReturnType<typeof createClientCache>;
