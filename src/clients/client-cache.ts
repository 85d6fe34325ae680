import { LRUCache } from 'lru-cache';
import type { ClientStore } from '../stores/client-store.js';
import type { CacheMarks } from '../stores/cache-marks.js';
import type { ScopeCatalog } from '../scopes/scope-catalog.js';
import { toProviderMetadata, type ProviderClientMetadata } from './client-model.js';

interface Entry {
  /** The mark of the client's account (a client's account never changes). */
  name: string;
  /** Its value when the entry was loaded. */
  mark: string;
  /** What oidc-provider gets; undefined when the client must not authenticate. */
  metadata: ProviderClientMetadata | undefined;
  loadedAt: number;
}

/** Mark that moves whenever anything that decides a client's authentication changes in `accountId`. */
const markOf = (accountId: string): string => `account:${accountId}`;

/**
 * Client lookups for oidc-provider, off the client store on the hot path.
 *
 * Every change to a client or user of an account moves that account's cache mark (shared by
 * every process), before and after the write. A lookup reads the mark — one cheap read in Redis
 * or the embedded file — and uses its cached entry only when it was loaded under the same mark;
 * otherwise it reloads from the client store. So a rotated, disabled, deleted or
 * re-certified client is seen in its new state by the very next request on every node. The mark
 * is read before the client, never after, so an entry can only be older than its mark, never
 * newer. Entries also expire after `maxAgeMs`, a backstop for a write whose closing mark move
 * failed.
 */
export function createClientCache(deps: {
  clientStore: ClientStore;
  marks: CacheMarks;
  /** Expands each client's allowed scopes to everything they imply. */
  scopes: Pick<ScopeCatalog, 'expand'>;
  /** Off when clients can change where this process cannot see the marks (no shared token store). */
  enabled: boolean;
  maxEntries?: number;
  maxAgeMs?: number;
}) {
  const { clientStore, marks, enabled } = deps;
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
    return { accountId, metadata: toProviderMetadata(record, deps.scopes) };
  }

  const reload = async (clientId: string, name: string, mark: string) => {
    const loadedAt = Date.now();
    const metadata = (await load(clientId))?.metadata;
    entries.set(clientId, { name, mark, metadata, loadedAt });
    return metadata;
  };

  return {
    /** Whether lookups are cached. */
    enabled,

    /** The provider metadata of `clientId`, or undefined when it must not authenticate. */
    async metadata(clientId: string): Promise<ProviderClientMetadata | undefined> {
      if (!enabled) return (await load(clientId))?.metadata;
      const entry = entries.get(clientId);
      if (entry === undefined) {
        // First sight: learn the client's account, then load it again under the account's
        // mark. An unknown id is not remembered, so made-up ids cannot fill the cache.
        const first = await load(clientId);
        if (first === undefined) return undefined;
        const name = markOf(first.accountId);
        return reload(clientId, name, await marks.read(name));
      }
      const mark = await marks.read(entry.name);
      return entry.mark === mark && Date.now() - entry.loadedAt < maxAgeMs
        ? entry.metadata
        : reload(clientId, entry.name, mark);
    },

    /**
     * Runs a write that changes clients or users of `accountId`, moving the account's mark
     * before and after it, so no process keeps using what the write replaced.
     */
    async change<T>(accountId: string, write: () => Promise<T>): Promise<T> {
      await marks.bump(markOf(accountId));
      try {
        return await write();
      } finally {
        await marks.bump(markOf(accountId));
      }
    },
  };
}

export type ClientCache = ReturnType<typeof createClientCache>;
