import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRedisCacheMarks } from '../../adapters/redis/cache-marks.js';
import { createRedisLimiter } from '../../adapters/redis/limiter.js';
import { createRedisStateReader } from '../../adapters/redis/state-reader.js';
import { createRedisTokenStore } from '../../adapters/redis/token-store.js';
import { connectRedis, readyRedis } from '../../adapters/redis/connection.js';
import { StoreUnavailableError } from '../../src/errors.js';
import {
  advanceRedisClock,
  startPrivateRedis,
  startRedisCluster,
  startRedisSentinel,
  testRedis,
  TEST_REDIS_URL,
  uniquePrefix,
  type RedisTopology,
} from '../support/redis.js';
import { cacheMarksContract } from './cache-marks-contract.js';
import { limiterContract } from './limiter-contract.js';
import { stateReaderContract } from './state-reader-contract.js';
import { tokenStoreContract } from './token-store-contract.js';

/** A token store on `url` under a key prefix of its own, removed when disposed. */
async function redisHarness(url: string, name: string) {
  const prefix = uniquePrefix(name);
  const { client, cleanup } = await testRedis(url, prefix);
  const store = createRedisTokenStore(client);
  return {
    store,
    advance: (ms: number) => advanceRedisClock(url, prefix, ms),
    dispose: async () => (await store.close(), await cleanup()),
  };
}

/** Two connections on `url` under one key prefix, as two processes have. */
async function twoConnections(url: string, name: string) {
  const prefix = uniquePrefix(name);
  const a = await testRedis(url, prefix);
  const b = await testRedis(url, prefix);
  return {
    clients: [a.client, b.client] as const,
    dispose: async () => {
      a.client.disconnect();
      b.client.disconnect();
      await a.cleanup();
    },
  };
}

/** Every Redis contract on one topology. */
function redisContracts(label: string, url: () => string, name: string) {
  tokenStoreContract(label, () => redisHarness(url(), `${name}-tokens`));
  cacheMarksContract(label, async () => {
    const { clients, dispose } = await twoConnections(url(), `${name}-marks`);
    return { marks: [createRedisCacheMarks(clients[0]), createRedisCacheMarks(clients[1])], dispose };
  });
  limiterContract(label, async () => {
    const { clients, dispose } = await twoConnections(url(), `${name}-limits`);
    return { limiters: [createRedisLimiter(clients[0]), createRedisLimiter(clients[1])], dispose };
  });
  stateReaderContract(label, async () => {
    const prefix = uniquePrefix(`${name}-state`);
    const { client, cleanup } = await testRedis(url(), prefix);
    const tokenStore = createRedisTokenStore(client);
    return {
      marks: createRedisCacheMarks(client),
      limiter: createRedisLimiter(client),
      tokenStore,
      reader: createRedisStateReader(client),
      dispose: async () => (await tokenStore.close(), await cleanup()),
    };
  });
}

redisContracts('redis', () => TEST_REDIS_URL, 'redis');

describe('redis cluster', () => {
  let cluster: RedisTopology;
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => cluster?.stop());

  redisContracts('redis cluster (3 masters)', () => cluster.url, 'cluster');
});

describe('redis sentinel', () => {
  let sentinel: RedisTopology;
  before(async () => {
    sentinel = await startRedisSentinel();
  });
  after(async () => sentinel?.stop());

  redisContracts('redis through sentinel', () => sentinel.url, 'sentinel');
});

describe('redis limiter', () => {
  it('counts in one key with the window as its lifetime, and leaves no key when a count falls back to zero', async () => {
    const { client, cleanup } = await testRedis(TEST_REDIS_URL, uniquePrefix('redis-limits'));
    const limiter = createRedisLimiter(client);
    const rule = { name: 'client-auth', points: 3, windowSeconds: 300 };
    try {
      await limiter.hit(rule, 'pair');
      assert.equal(await client.get('limit:client-auth:pair'), '1');
      const left = await client.pttl('limit:client-auth:pair');
      assert.ok(left > 299_000 && left <= 300_000, `${left}`);
      await limiter.hit(rule, 'pair');
      await limiter.reward(rule, 'pair');
      assert.equal(await client.get('limit:client-auth:pair'), '1');
      await limiter.reward(rule, 'pair');
      assert.equal(await client.exists('limit:client-auth:pair'), 0);
      await limiter.reward(rule, 'pair');
      assert.equal(
        await client.exists('limit:client-auth:pair'),
        0,
        'a reward never leaves a negative count',
      );
    } finally {
      client.disconnect();
      await cleanup();
    }
  });
});

describe('redis token store', () => {
  it('keeps the record and its lifetime in Redis itself', async () => {
    const prefix = uniquePrefix('redis-layout');
    const { client, cleanup } = await testRedis(TEST_REDIS_URL, prefix);
    const store = createRedisTokenStore(client);
    try {
      await store.adapter('AccessToken').upsert('abc', { clientId: 'c1', grantId: 'g1' }, 120);
      const ttl = await client.ttl('AccessToken:abc');
      assert.ok(ttl > 100 && ttl <= 120, `ttl ${ttl}`);
      const expiresAt = Math.floor(Date.now() / 1000) + 120;
      for (const index of ['client-index:c1', 'grant-index:g1']) {
        const [member, score] = await client.zrange(index, '0', '-1', 'WITHSCORES');
        assert.equal(member, 'AccessToken:abc');
        assert.ok(Math.abs(Number(score) - expiresAt) <= 1, `${index} scores the entry by its expiry`);
      }
      assert.ok((await client.ttl('client-index:c1')) > 100);

      // An index keeps only live entries: adding one drops those whose records expired.
      await client.zadd('client-index:c1', String(Math.floor(Date.now() / 1000) - 10), 'AccessToken:gone');
      await store.adapter('AccessToken').upsert('def', { clientId: 'c1' }, 120);
      assert.deepEqual((await client.zrange('client-index:c1', '0', '-1')).sort(), [
        'AccessToken:abc',
        'AccessToken:def',
      ]);
      // Client-credentials tokens are plain records, in no client index: revoking the client
      // leaves them to expire (the provider refuses them once their client is gone).
      await store
        .adapter('ClientCredentials')
        .upsert('cc', { clientId: 'c2', kind: 'ClientCredentials' }, 90);
      assert.deepEqual(JSON.parse((await client.get('ClientCredentials:cc'))!), {
        clientId: 'c2',
        kind: 'ClientCredentials',
      });
      const ccTtl = await client.ttl('ClientCredentials:cc');
      assert.ok(ccTtl > 80 && ccTtl <= 90, `ttl ${ccTtl}`);
      await store.adapter('ClientCredentials').upsert('cc-forever', { clientId: 'c2' });
      assert.equal(await client.get('ClientCredentials:cc-forever'), '{"clientId":"c2"}');
      assert.equal(await client.ttl('ClientCredentials:cc-forever'), -1);
      assert.equal(await client.exists('client-index:c2'), 0);
      await store.adapter('AccessToken').upsert('c2-at', { clientId: 'c2', grantId: 'g2' }, 90);
      await store.revokeByClientId('c2');
      assert.equal(await client.exists('AccessToken:c2-at'), 0);
      assert.equal(await client.exists('ClientCredentials:cc'), 1);

      // A record without expiry makes its index permanent.
      await store.adapter('Grant').upsert('forever', { clientId: 'c1' });
      assert.equal(await client.ttl('client-index:c1'), -1);
      await store.adapter('AccessToken').consume('missing');
      assert.equal(await client.exists('AccessToken:missing'), 0, 'consume never creates a record');

      // A record is its payload as JSON; consuming it adds `consumed` and keeps its lifetime.
      assert.deepEqual(JSON.parse((await client.get('AccessToken:abc'))!), { clientId: 'c1', grantId: 'g1' });
      await store.adapter('AccessToken').consume('abc');
      const consumed = JSON.parse((await client.get('AccessToken:abc'))!) as Record<string, unknown>;
      assert.equal(typeof consumed.consumed, 'number');
      assert.ok((await client.ttl('AccessToken:abc')) > 100);
      await store.adapter('Interaction').upsert('empty', {}, 60);
      await store.adapter('Interaction').consume('empty');
      assert.equal(typeof (await store.adapter('Interaction').find('empty'))?.consumed, 'number');
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('pipelines the commands issued together, and answers each of them', async () => {
    const { client, cleanup } = await testRedis(TEST_REDIS_URL, uniquePrefix('redis-batched'));
    const store = createRedisTokenStore(client);
    try {
      await client.ping();
      const adapter = store.adapter('AccessToken');
      const ids = Array.from({ length: 50 }, (_, i) => `batched-${i}`);
      const upserts = Promise.all(ids.map((id) => adapter.upsert(id, { clientId: 'c1', jti: id }, 60)));
      // ioredis's auto-pipelining holds what was issued in this turn for one write.
      assert.equal((client as { autoPipelineQueueSize: number }).autoPipelineQueueSize, 50);
      await upserts;
      const reads = Promise.all(ids.map((id) => adapter.find(id)));
      assert.equal((client as { autoPipelineQueueSize: number }).autoPipelineQueueSize, 50);
      const found = await reads;
      assert.deepEqual(
        found.map((record) => record?.jti),
        ids,
      );
      assert.equal(await client.zcard('client-index:c1'), 50);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it(
    'fails the commands a hung Redis leaves unanswered, and pairs replies right once it answers',
    { timeout: 10_000 },
    async () => {
      const redis = await startPrivateRedis();
      const client = connectRedis(redis.url, uniquePrefix('redis-hung'), { commandTimeoutMs: 400 });
      await readyRedis(client);
      const store = createRedisTokenStore(client);
      try {
        const adapter = store.adapter('AccessToken');
        await adapter.upsert('a', { jti: 'a' }, 60);
        await adapter.upsert('b', { jti: 'b' }, 60);
        redis.pause();
        await assert.rejects(adapter.find('a'), StoreUnavailableError);
        await assert.rejects(adapter.upsert('c', { jti: 'c' }, 60), StoreUnavailableError);
        redis.resume();
        // The late replies go to the failed commands, not to these.
        assert.deepEqual(await adapter.find('b'), { jti: 'b' });
        assert.deepEqual(await adapter.find('a'), { jti: 'a' });
      } finally {
        await store.close();
        await redis.dispose();
      }
    },
  );

  it('fails fast with StoreUnavailableError when Redis cannot be reached', async () => {
    const client = connectRedis('redis://127.0.0.1:6379', uniquePrefix('redis-down'));
    await readyRedis(client);
    const store = createRedisTokenStore(client);
    client.disconnect();
    await assert.rejects(store.adapter('AccessToken').find('x'), StoreUnavailableError);
    await assert.rejects(store.ping(), StoreUnavailableError);
    await store.close();
  });
});
