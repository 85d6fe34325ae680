import { hash } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { LRUCache } from 'lru-cache';
import Provider, { errors } from 'oidc-provider';
import type { Logger } from 'pino';
import type { ScopeCatalog } from '../scopes/scope-catalog.js';
import type { CacheMarks } from '../stores/cache-marks.js';
import type { ClientStore, ResourceRecord } from '../stores/client-store.js';
import type { Limiter, LimitRule, LimitState } from '../stores/limiter.js';
import type { StateReader } from '../stores/state-reader.js';
import type { TokenPayload } from '../stores/token-store.js';
import { toProviderMetadata, type ProviderClientMetadata } from './client-model.js';

/** How long failed client authentications are counted (README, "Client-authentication throttling"). */
export const CLIENT_AUTH_WINDOW_SECONDS = 5 * 60;

/** `429 invalid_client`: this client id from this address failed too often; `Retry-After` says when to retry. */
export class ClientAuthThrottledError extends errors.OIDCProviderError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'invalid_client');
    this.expose = true;
    this.error_description = 'too many failed client authentications from this address; retry later';
  }
}

/** The models a presented token may be a record of at introspection and revocation. */
const TOKEN_MODELS = ['AccessToken', 'ClientCredentials', 'RefreshToken'] as const;

/** What an opaque token issued here looks like: only such values are worth reading ahead. */
const OPAQUE_TOKEN = /^[\w-]{16,256}$/;

interface ClientEntry {
  accountId: string;
  /** The account's mark when the entry was loaded (read before the client was). */
  mark: string;
  /** What oidc-provider gets; undefined when the client must not authenticate. */
  metadata: ProviderClientMetadata | undefined;
  loadedAt: number;
}

interface ResourceEntry {
  accountId: string;
  mark: string;
  resource: ResourceRecord;
  loadedAt: number;
}

/** What the directory learns about one protocol request on its way through. */
interface RequestState {
  address: string;
  /** A POST to a client-authenticating endpoint: its first client lookup is the client presented. */
  authenticating: boolean;
  /** Introspection or revocation: the presented token's records are read with the rest. */
  readsToken: boolean;
  presented?: string;
  /** The failure counter's key of the presented client id and this address. */
  counterKey?: string;
  /** Account marks read during this request, by name. */
  marks: Map<string, string>;
  /** Token records read ahead, by `<model>:<id>`; each is handed out once. */
  records: Map<string, TokenPayload | undefined>;
  throttled?: LimitState;
  /** A failure counted ahead of an argon2 check (taken back unless the attempt fails). */
  reserved?: LimitState;
}

/** Where the request's state sits in `ctx.state`. */
const REQUEST = Symbol('client directory request');

/** The request oidc-provider is handling right now (its public `Provider.ctx`), if it is one of ours. */
function currentRequest(): RequestState | undefined {
  return (Provider.ctx?.state as Record<symbol, RequestState | undefined> | undefined)?.[REQUEST];
}

/** Mark that moves whenever anything that decides a client's authentication changes in `accountId`. */
const markOf = (accountId: string): string => `account:${accountId}`;

export interface ClientDirectoryDeps {
  clientStore: ClientStore;
  marks: CacheMarks;
  limiter: Limiter;
  state: StateReader;
  /** Expands each client's allowed scopes to everything they imply. */
  scopes: Pick<ScopeCatalog, 'expand'>;
  /** Off when clients can change where this process cannot see the marks (no shared token store). */
  enabled: boolean;
  maxFailures: number;
  logger: Logger;
  /** The endpoints that authenticate clients. */
  authenticating: ReadonlySet<string>;
  /** The endpoints that take a presented token (introspection, revocation). */
  takingTokens: ReadonlySet<string>;
  /** Told of every failed or throttled authentication, with the presented client id (null: throttled). */
  onFailure?: (clientId: string | null) => Promise<void>;
  maxEntries?: number;
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * The one place that knows, for a protocol request, which clients and resource servers are
 * current and whether the presenting client may try at all.
 *
 * Cross-node consistency: every change to a client, user or resource server of an account moves
 * the account's mark (shared by every process), before and after the write. An entry cached here
 * counts only while the mark read during this request equals the one it was loaded under; the
 * mark is read before the record, so an entry can be older than its mark, never newer. So a
 * rotated, disabled or deleted client is seen in its new state by the next request on every node.
 *
 * Cost: a request that presents a client makes one combined read of the token store
 * ({@link StateReader}) when oidc-provider looks that client up: the account's mark, the failure
 * counter of the client id and source address, and at introspection and revocation the records
 * the presented token could be. Everything else in the request (its secret check, its resource
 * server, the client of each token record) is answered from that read and this process's memory.
 * Only a changed account, a client seen for the first time or a throttled pair reads more.
 */
export function createClientDirectory(deps: ClientDirectoryDeps) {
  const { clientStore, marks, limiter, enabled, logger } = deps;
  const now = deps.now ?? Date.now;
  const maxAgeMs = deps.maxAgeMs ?? 5 * 60_000;
  const clients = new LRUCache<string, ClientEntry>({ max: deps.maxEntries ?? 10_000 });
  const resources = new LRUCache<string, ResourceEntry>({ max: deps.maxEntries ?? 10_000 });
  const rule: LimitRule = {
    name: 'client-auth',
    points: deps.maxFailures,
    windowSeconds: CLIENT_AUTH_WINDOW_SECONDS,
  };
  // Presented ids may be anything, of any length: the counter's key holds a digest of the id.
  const pairKey = (clientId: string, address: string) =>
    `${hash('sha256', clientId, 'base64url')}|${address}`;
  const fresh = (entry: { loadedAt: number }) => now() - entry.loadedAt < maxAgeMs;

  /** The client's account and provider metadata, straight from the client store. */
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

  /** The mark `name` as this request saw it (read once per request), or read now outside one. */
  async function markFor(name: string, request: RequestState | undefined): Promise<string> {
    let mark = request?.marks.get(name);
    if (mark === undefined) {
      mark = await marks.read(name);
      request?.marks.set(name, mark);
    }
    return mark;
  }

  async function reload(clientId: string, accountId: string, mark: string) {
    const loadedAt = now();
    const metadata = (await load(clientId))?.metadata;
    clients.set(clientId, { accountId, mark, metadata, loadedAt });
    return metadata;
  }

  /** `clientId` as oidc-provider should see it during `request`; undefined when it must not authenticate. */
  async function lookup(clientId: string, request: RequestState | undefined) {
    if (!enabled) return (await load(clientId))?.metadata;
    const entry = clients.get(clientId);
    if (entry) {
      const mark = await markFor(markOf(entry.accountId), request);
      return entry.mark === mark && fresh(entry) ? entry.metadata : reload(clientId, entry.accountId, mark);
    }
    // First sight: learn the client's account. An unknown id is not remembered, so made-up ids
    // cannot fill the cache.
    const first = await load(clientId);
    if (!first) return undefined;
    const name = markOf(first.accountId);
    const seen = request?.marks.get(name);
    if (seen === undefined) return reload(clientId, first.accountId, await markFor(name, request));
    // The mark was read earlier in this request, before this load: the load stands under it.
    clients.set(clientId, { ...first, mark: seen, loadedAt: now() });
    return first.metadata;
  }

  /**
   * The combined read, when oidc-provider looks up the client a request presents (it has parsed
   * the request by then, wherever the client id came from): a throttled pair is refused here,
   * before any secret is hashed or certificate checked, and whether or not the client exists.
   */
  async function presentedBy(request: RequestState, clientId: string): Promise<void> {
    request.presented = clientId;
    request.counterKey = pairKey(clientId, request.address);
    const entry = enabled ? clients.get(clientId) : undefined;
    const mark = entry && markOf(entry.accountId);
    const counter = { rule, key: request.counterKey };
    const token: unknown = request.readsToken ? Provider.ctx?.oidc.params?.token : undefined;
    const records =
      typeof token === 'string' && OPAQUE_TOKEN.test(token)
        ? TOKEN_MODELS.map((model) => ({ model, id: token }))
        : [];
    const read = await deps.state.read({ marks: mark ? [mark] : [], counters: [counter], records });
    if (mark) request.marks.set(mark, read.marks[0]!);
    records.forEach(({ model, id }, i) => request.records.set(`${model}:${id}`, read.records[i]));
    if (read.hits[0]! < rule.points) return;
    // Limited, or its window just ended: only the counter itself says how long to wait.
    const state = await limiter.check(rule, counter.key);
    if (state.limited) {
      request.throttled = state;
      throw new ClientAuthThrottledError(state.retryAfterSeconds);
    }
  }

  // Logged once per window: on the failure that reaches the limit. Never the secret.
  const counted = (request: RequestState, state: LimitState) => {
    if (state.hits === rule.points) {
      logger.warn(
        { client_id: request.presented!.slice(0, 200), address: request.address, failures: state.hits },
        'client authentication throttled',
      );
    }
  };

  return {
    /** Whether lookups are cached. */
    enabled,

    /**
     * Gives each protocol request its state, ahead of oidc-provider; afterwards counts a failed
     * client authentication against the client id and source address (RFC 6749 section 2.3.1),
     * in the token store so the limit holds across nodes.
     */
    middleware(): Middleware {
      return async function clientDirectory(ctx: Context, next) {
        if (!ctx.path.startsWith('/oauth/')) return next();
        const authenticating = ctx.method === 'POST' && deps.authenticating.has(ctx.path);
        const request: RequestState = {
          address: ctx.ip,
          authenticating,
          readsToken: authenticating && deps.takingTokens.has(ctx.path),
          marks: new Map(),
          records: new Map(),
        };
        (ctx.state as Record<symbol, RequestState>)[REQUEST] = request;
        await next();
        if (!authenticating) return;
        if (request.throttled) {
          ctx.set('retry-after', String(Math.max(1, request.throttled.retryAfterSeconds)));
          await deps.onFailure?.(null);
          return;
        }
        const { presented, counterKey: key } = request;
        if (presented === undefined || key === undefined) return;
        const body = ctx.body as { error?: unknown } | undefined;
        const failed = ctx.status === 401 && body?.error === 'invalid_client';
        if (failed) await deps.onFailure?.(presented);
        if (request.reserved) {
          if (failed) counted(request, request.reserved);
          else await limiter.reward(rule, key);
        } else if (failed) {
          counted(request, await limiter.hit(rule, key));
        }
      };
    },

    /**
     * The Client adapter's lookup. The first one of an authenticating request is the client
     * presented, and makes the request's combined read.
     */
    client(clientId: string): Promise<ProviderClientMetadata | undefined> {
      const request = currentRequest();
      if (request?.authenticating && request.presented === undefined) {
        return presentedBy(request, clientId).then(() => lookup(clientId, request));
      }
      return lookup(clientId, request);
    },

    /** The client of a stored record, while current: not deleted, not disabled, its service user enabled. */
    current(clientId: string): Promise<ProviderClientMetadata | undefined> {
      return lookup(clientId, currentRequest());
    },

    /** A token record this request read ahead, handed out once; undefined when none was read. */
    takeRecord(model: string, id: string): { record: TokenPayload | undefined } | undefined {
      const request = currentRequest();
      const key = `${model}:${id}`;
      if (!request?.records.has(key)) return undefined;
      const record = request.records.get(key);
      request.records.delete(key);
      return { record };
    },

    /** RFC 8707: the resource server `identifier` when it belongs to `accountId`, cached under the account's mark. */
    async resource(identifier: string, accountId: string): Promise<ResourceRecord | undefined> {
      const request = currentRequest();
      const mark = enabled ? await markFor(markOf(accountId), request) : '';
      const entry = enabled ? resources.get(identifier) : undefined;
      if (entry && entry.accountId === accountId && entry.mark === mark && fresh(entry))
        return entry.resource;
      const loadedAt = now();
      const resource = await clientStore.findResourceByIdentifier(identifier);
      if (!resource || resource.account_id !== accountId) return undefined;
      if (enabled) resources.set(identifier, { accountId, mark, resource, loadedAt });
      return resource;
    },

    /**
     * What the current request's secret check needs: its source address (so one source cannot
     * take every argon2 slot of a client), and a failure counted ahead of argon2 and taken back
     * on success, so a burst of wrong secrets gets at most the limit's worth of checks however
     * many arrive at once.
     */
    secretCheck(): { source?: string; beforeHashing?: () => Promise<void> } {
      const request = currentRequest();
      if (!request) return {};
      const key = request.counterKey;
      if (key === undefined) return { source: request.address };
      return {
        source: request.address,
        async beforeHashing() {
          if (request.reserved) return;
          const state = await limiter.hit(rule, key);
          if (state.hits > rule.points) {
            request.throttled = state;
            throw new ClientAuthThrottledError(state.retryAfterSeconds);
          }
          request.reserved = state;
        },
      };
    },

    /**
     * Runs a write that changes clients, users or resource servers of `accountId`, moving the
     * account's mark before and after it, so no process keeps using what the write replaced.
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

export type ClientDirectory = ReturnType<typeof createClientDirectory>;
