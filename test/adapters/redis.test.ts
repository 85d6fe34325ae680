import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRedisTokenStore } from '../../adapters/redis/token-store.js';
import { connectRedis, readyRedis } from '../../adapters/redis/connection.js';
import { StoreUnavailableError } from '../../src/errors.js';
import {
  startRedisCluster,
  startRedisSentinel,
  testRedis,
  TEST_REDIS_URL,
  uniquePrefix,
  type RedisTopology,
} from '../support/redis.js';
import { tokenStoreContract } from './token-store-contract.js';

/** A token store on `url` under a key prefix of its own, removed when disposed. */
async function redisHarness(url: string, name: string) {
  const { client, cleanup } = await testRedis(url, uniquePrefix(name));
  const store = createRedisTokenStore(client);
  return { store, dispose: async () => (await store.close(), await cleanup()) };
}

tokenStoreContract('redis', () => redisHarness(TEST_REDIS_URL, 'redis-contract'));

describe('redis cluster', () => {
  let cluster: RedisTopology;
  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => cluster?.stop());

  tokenStoreContract('redis cluster (3 masters)', () => redisHarness(cluster.url, 'cluster-contract'));
});

describe('redis sentinel', () => {
  let sentinel: RedisTopology;
  before(async () => {
    sentinel = await startRedisSentinel();
  });
  after(async () => sentinel?.stop());

  tokenStoreContract('redis through sentinel', () => redisHarness(sentinel.url, 'sentinel-contract'));
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
      // A record without expiry makes its index permanent.
      await store.adapter('Grant').upsert('forever', { clientId: 'c1' });
      assert.equal(await client.ttl('client-index:c1'), -1);
      await store.adapter('AccessToken').consume('missing');
      assert.equal(await client.exists('AccessToken:missing'), 0, 'consume never creates a record');
    } finally {
      await store.close();
      await cleanup();
    }
  });

  it('fails fast with StoreUnavailableError when Redis cannot be reached', async () => {
    const client = connectRedis('redis://127.0.0.1:6379', uniquePrefix('redis-down'));
    await readyRedis(client);
    const store = createRedisTokenStore(client);
    client.disconnect();
    await assert.rejects(store.adapter('AccessToken').find('x'), StoreUnavailableError);
    await assert.rejects(store.ping(), StoreUnavailableError);
  });
});
