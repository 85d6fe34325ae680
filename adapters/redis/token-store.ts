import { Cluster } from 'ioredis';
import type { ModelAdapter, TokenPayload, TokenStore } from '../../src/stores/token-store.js';
import { guarded, unavailable, type RedisClient } from './connection.js';

/*
 * Layout (all under the connection's key prefix). On Redis Cluster every command touches exactly
 * one key, so no MULTI or script spans two hash slots and no hash tags are needed; on one Redis
 * (or Sentinel) a record and its index entries and pointers are written by one script.
 *
 *   <Model>:<id>                string: the payload as JSON (with `consumed` once consumed), EXPIRE = expiresIn
 *   uid:<Model>:<uid>           string <id>, same lifetime (Session lookups by uid)
 *   usercode:<Model>:<c>        string <id>, same lifetime (device flow)
 *   grant-index:<grantId>       sorted set of "<Model>:<id>" keys scored by their expiry (epoch
 *                               seconds, +inf for none); lives as long as its longest member
 *   client-index:<clientId>     likewise, for everything a client holds but its client-credentials
 *                               tokens (see UNINDEXED_BY_CLIENT)
 *
 * A record and its index entries are written in one round trip; a token is handed out
 * only when all writes succeeded, and an index entry without its record is harmless. Each
 * index drops its expired entries whenever an entry is added, so a client that is issued
 * tokens all day keeps an index the size of its live tokens, not of its history.
 */

/**
 * Models whose records are not entered in their client's index: client-credentials tokens are
 * written on every token request, no flow looks them up by client, and the provider refuses
 * them once their client is deleted or disabled (`currentClientsOnly` in create-provider.ts).
 */
const UNINDEXED_BY_CLIENT: ReadonlySet<string> = new Set(['ClientCredentials']);

/**
 * Adds `member` (scored `score`) to the index `key`, drops members that expired before `now` and
 * stretches the index's lifetime to at least `ttl` seconds (0 = forever).
 */
const INDEX_ADD_FUNCTION = `
local function index_add(key, member, score, now, ttl)
  local left = redis.call('TTL', key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. now)
  redis.call('ZADD', key, score, member)
  if ttl == 0 then
    redis.call('PERSIST', key)
  elseif left == -2 or (left >= 0 and left < ttl) then
    redis.call('EXPIRE', key, ttl)
  end
end`;

/** One index entry (Redis Cluster: the record and each index are written separately). */
const INDEX_ADD = `${INDEX_ADD_FUNCTION}
index_add(KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]))
return 1`;

/**
 * A record with its index entries and pointers in one script (one Redis, or Sentinel).
 * KEYS: the record, ARGV[6] indexes, then pointers. ARGV: payload, ttl (0 = none), index member,
 * its score, now, number of indexes, pointer value.
 */
const UPSERT = `${INDEX_ADD_FUNCTION}
local ttl = tonumber(ARGV[2])
local indexes = tonumber(ARGV[6])
for i = 1, #KEYS do
  local value = ARGV[1]
  if i > 1 + indexes then value = ARGV[7] end
  if i == 1 or i > 1 + indexes then
    if ttl > 0 then redis.call('SET', KEYS[i], value, 'EX', ttl) else redis.call('SET', KEYS[i], value) end
  else
    index_add(KEYS[i], ARGV[3], ARGV[4], ARGV[5], ttl)
  end
end
return 1`;

/**
 * Marks a record consumed, keeping its lifetime, only if it still exists (never resurrects it).
 * The record is a JSON object; `"consumed":<seconds>` goes in before its closing brace (a
 * repeated member is harmless: the last one counts).
 */
const CONSUME = `
local record = redis.call('GET', KEYS[1])
if not record then return 0 end
local body = string.sub(record, 1, -2)
if body ~= '{' then body = body .. ',' end
redis.call('SET', KEYS[1], body .. '"consumed":' .. ARGV[1] .. '}', 'KEEPTTL')
return 1`;

interface ScriptedClient {
  tesseraIndexAdd(key: string, member: string, expiresAt: string, now: number, ttl: number): Promise<number>;
  tesseraUpsert(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<number>;
  tesseraConsume(key: string, at: number): Promise<number>;
}

const nothing = (): void => undefined;

/** Where a record of `model` is kept (read by the request state read too, state-reader.ts). */
export const recordKey = (model: string, id: string): string => `${model}:${id}`;

/** A stored record as the adapter returns it. */
export const parseRecord = (record: string | null): TokenPayload | undefined =>
  record ? (JSON.parse(record) as TokenPayload) : undefined;

/** The Redis token store. The client is owned by the store and closed with it. */
export function createRedisTokenStore(client: RedisClient): TokenStore {
  client.defineCommand('tesseraIndexAdd', { numberOfKeys: 1, lua: INDEX_ADD });
  client.defineCommand('tesseraUpsert', { lua: UPSERT });
  const cluster = client instanceof Cluster;
  client.defineCommand('tesseraConsume', { numberOfKeys: 1, lua: CONSUME });
  const scripted = client as unknown as ScriptedClient;

  const removeIndexed = async (indexKey: string): Promise<void> => {
    const members = await client.zrange(indexKey, '0', '-1');
    await Promise.all(members.map((member) => client.unlink(member)));
    await client.unlink(indexKey);
  };

  const read = async (key: string): Promise<TokenPayload | undefined> => parseRecord(await client.get(key));

  /** A string key with `ttl` seconds to live (0 = forever). */
  const setFor = (key: string, value: string, ttl: number) =>
    ttl ? client.set(key, value, 'EX', ttl) : client.set(key, value);

  const adapters = new Map<string, ModelAdapter>();
  return {
    adapter(model) {
      let adapter = adapters.get(model);
      if (adapter) return adapter;
      const keyOf = (id: string) => recordKey(model, id);
      const indexedByClient = !UNINDEXED_BY_CLIENT.has(model);
      const lookup = async (indexKey: string) => {
        const id = await client.get(indexKey);
        return id ? read(keyOf(id)) : undefined;
      };
      adapter = {
        // A record without index entries or pointers (every client-credentials token) is one
        // SET; others one script, or on a cluster one command per key.
        upsert(id, payload, expiresIn) {
          const key = keyOf(id);
          const ttl = expiresIn && expiresIn > 0 ? Math.ceil(expiresIn) : 0;
          const record = JSON.stringify(payload);
          const indexes: string[] = [];
          if (typeof payload.grantId === 'string') indexes.push(`grant-index:${payload.grantId}`);
          if (indexedByClient && typeof payload.clientId === 'string') {
            indexes.push(`client-index:${payload.clientId}`);
          }
          const pointers: string[] = [];
          if (typeof payload.uid === 'string') pointers.push(`uid:${model}:${payload.uid}`);
          if (typeof payload.userCode === 'string') pointers.push(`usercode:${model}:${payload.userCode}`);
          if (indexes.length === 0 && pointers.length === 0)
            return setFor(key, record, ttl).then(nothing, unavailable);
          // Index entries are scored by their expiry; adding one drops those already past.
          const now = Math.floor(Date.now() / 1000);
          const expiresAt = ttl ? String(now + ttl) : '+inf';
          if (!cluster) {
            const keys = [key, ...indexes, ...pointers];
            return scripted
              .tesseraUpsert(keys.length, ...keys, record, ttl, key, expiresAt, now, indexes.length, id)
              .then(nothing, unavailable);
          }
          return Promise.all([
            setFor(key, record, ttl),
            ...indexes.map((index) => scripted.tesseraIndexAdd(index, key, expiresAt, now, ttl)),
            ...pointers.map((pointer) => setFor(pointer, id, ttl)),
          ]).then(nothing, unavailable);
        },
        find: (id) => guarded(() => read(keyOf(id))),
        findByUid: (uid) => guarded(() => lookup(`uid:${model}:${uid}`)),
        findByUserCode: (userCode) => guarded(() => lookup(`usercode:${model}:${userCode}`)),
        consume: (id) =>
          guarded(async () => {
            await scripted.tesseraConsume(keyOf(id), Math.floor(Date.now() / 1000));
          }),
        destroy: (id) =>
          guarded(async () => {
            await client.unlink(keyOf(id));
          }),
        revokeByGrantId: (grantId) => guarded(() => removeIndexed(`grant-index:${grantId}`)),
      };
      adapters.set(model, adapter);
      return adapter;
    },
    revokeByClientId: (clientId) => guarded(() => removeIndexed(`client-index:${clientId}`)),
    async ping() {
      await guarded(() => client.ping());
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
