import { randomUUID } from 'node:crypto';
import { ReplyError } from 'ioredis';
import { StoreUnavailableError } from '../../src/errors.js';
import type { ModelAdapter, TokenPayload, TokenStore } from '../../src/stores/token-store.js';
import type { RedisClient } from './connection.js';

/*
 * Layout (all under the connection's key prefix). Every command touches exactly one key, so
 * the store works unchanged on Redis Cluster: no MULTI or script spans two hash slots.
 *
 *   <Model>:<id>                hash { payload: JSON, consumed?: epoch seconds }, EXPIRE = expiresIn
 *   uid:<Model>:<uid>           string <id>, same lifetime (Session lookups by uid)
 *   usercode:<Model>:<c>        string <id>, same lifetime (device flow)
 *   grant-index:<grantId>       sorted set of "<Model>:<id>" keys scored by their expiry (epoch
 *                               seconds, +inf for none); lives as long as its longest member
 *   client-index:<clientId>     likewise, for everything a client holds
 *   counter:<key>               integer, expiring one window after its first hit (login throttling)
 *   epoch:<name>                random mark, moved on every change (see TokenStore.bumpEpoch)
 *
 * A record and its index entries are written together (one round trip); a token is handed out
 * only when all writes succeeded, and an index entry without its record is harmless. Each
 * index drops its expired entries whenever an entry is added, so a client that is issued
 * tokens all day keeps an index the size of its live tokens, not of its history.
 */

/** Adds a member to an index, drops expired members and stretches the index's lifetime (0 = forever). */
const INDEX_ADD = `
local left = redis.call('TTL', KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local wanted = tonumber(ARGV[4])
if wanted == 0 then
  redis.call('PERSIST', KEYS[1])
elseif left == -2 or (left >= 0 and left < wanted) then
  redis.call('EXPIRE', KEYS[1], wanted)
end
return 1`;

/** Replaces a record in one step: its payload and its lifetime (0 = none). */
const UPSERT = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
return 1`;

/** Marks a record consumed, only if it still exists (never resurrects it without a lifetime). */
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'consumed', ARGV[1])
  return 1
end
return 0`;

/** INCR that starts the window on the first hit only (one key, so Cluster-safe). */
const COUNT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count`;

interface ScriptedClient {
  tesseraCount(key: string, windowSeconds: number): Promise<number>;
  tesseraIndexAdd(key: string, member: string, expiresAt: string, now: number, ttl: number): Promise<number>;
  tesseraUpsert(key: string, payload: string, ttl: number): Promise<number>;
  tesseraConsume(key: string, at: number): Promise<number>;
}

/**
 * Runs a store call. A Redis error reply is a bug and surfaces as is; anything else (refused
 * connection, closed stream, retries exhausted) means Redis is out of reach right now.
 */
async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ReplyError) throw error;
    throw new StoreUnavailableError('token_store', { cause: error });
  }
}

/** The Redis token store. The client is owned by the store and closed with it. */
export function createRedisTokenStore(client: RedisClient): TokenStore {
  client.defineCommand('tesseraIndexAdd', { numberOfKeys: 1, lua: INDEX_ADD });
  client.defineCommand('tesseraUpsert', { numberOfKeys: 1, lua: UPSERT });
  client.defineCommand('tesseraConsume', { numberOfKeys: 1, lua: CONSUME });
  client.defineCommand('tesseraCount', { numberOfKeys: 1, lua: COUNT });
  const scripted = client as unknown as ScriptedClient;

  const read = async (key: string): Promise<TokenPayload | undefined> => {
    const record = await client.hgetall(key);
    if (!record.payload) return undefined;
    const payload = JSON.parse(record.payload) as TokenPayload;
    if (record.consumed) payload.consumed = Number(record.consumed);
    return payload;
  };

  const removeIndexed = async (indexKey: string): Promise<void> => {
    const members = await client.zrange(indexKey, '0', '-1');
    await Promise.all(members.map((member) => client.unlink(member)));
    await client.unlink(indexKey);
  };

  const adapters = new Map<string, ModelAdapter>();
  return {
    adapter(model) {
      let adapter = adapters.get(model);
      if (adapter) return adapter;
      const keyOf = (id: string) => `${model}:${id}`;
      const lookup = async (indexKey: string) => {
        const id = await client.get(indexKey);
        return id ? read(keyOf(id)) : undefined;
      };
      adapter = {
        upsert: (id, payload, expiresIn) =>
          guarded(async () => {
            const key = keyOf(id);
            const ttl = expiresIn && expiresIn > 0 ? Math.ceil(expiresIn) : 0;
            const now = Math.floor(Date.now() / 1000);
            const expiresAt = ttl ? String(now + ttl) : '+inf';
            const writes: Promise<unknown>[] = [scripted.tesseraUpsert(key, JSON.stringify(payload), ttl)];
            if (typeof payload.grantId === 'string')
              writes.push(
                scripted.tesseraIndexAdd(`grant-index:${payload.grantId}`, key, expiresAt, now, ttl),
              );
            if (typeof payload.clientId === 'string')
              writes.push(
                scripted.tesseraIndexAdd(`client-index:${payload.clientId}`, key, expiresAt, now, ttl),
              );
            for (const [field, prefix] of [
              ['uid', 'uid'],
              ['userCode', 'usercode'],
            ] as const) {
              const value = payload[field];
              if (typeof value !== 'string') continue;
              const pointer = `${prefix}:${model}:${value}`;
              writes.push(ttl ? client.set(pointer, id, 'EX', ttl) : client.set(pointer, id));
            }
            await Promise.all(writes);
          }),
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
    incrementCounter: (key, windowSeconds) =>
      guarded(() => scripted.tesseraCount(`counter:${key}`, windowSeconds)),
    readCounter: (key) => guarded(async () => Number((await client.get(`counter:${key}`)) ?? 0)),
    resetCounter: (key) =>
      guarded(async () => {
        await client.unlink(`counter:${key}`);
      }),
    readEpoch: (name) => guarded(async () => (await client.get(`epoch:${name}`)) ?? ''),
    bumpEpoch: (name) =>
      guarded(async () => {
        // A random mark, not a counter: after a Redis data loss no old mark can come back.
        await client.set(`epoch:${name}`, randomUUID());
      }),
    async ping() {
      await guarded(() => client.ping());
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
