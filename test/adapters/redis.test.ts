import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisEpochs, type RedisEpochOptions } from '../../adapters/redis/epochs.js';
import { createRedisTokenStore } from '../../adapters/redis/token-store.js';
import { connectRedis, readyRedis, type RedisClient } from '../../adapters/redis/connection.js';
import { StoreUnavailableError } from '../../src/errors.js';
import {
  startPrivateRedis,
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

describe('redis epochs across processes', () => {
  /** Two processes' worth of epochs on one prefix: each its own connection and subscription. */
  async function twoNodes(name: string, options: RedisEpochOptions = {}) {
    const prefix = uniquePrefix(name);
    const a = await testRedis(TEST_REDIS_URL, prefix);
    const b = await testRedis(TEST_REDIS_URL, prefix);
    const nodeA = createRedisEpochs(a.client, options);
    const nodeB = createRedisEpochs(b.client, options);
    await waitUntil(() => nodeA.live && nodeB.live);
    return {
      prefix,
      raw: a.client,
      nodeA,
      nodeB,
      async dispose() {
        await nodeA.close();
        await nodeB.close();
        a.client.disconnect();
        b.client.disconnect();
        await a.cleanup();
      },
    };
  }

  it('answers from a local copy, and a move on one process reaches the other before it returns', async () => {
    const nodes = await twoNodes('epochs-move');
    try {
      const { nodeA, nodeB, raw } = nodes;
      assert.equal(await nodeB.read('account:x'), '');
      // Written behind the subscription's back: a process that has the name answers locally.
      await raw.set('epoch:account:x', 'behind-its-back');
      assert.equal(await nodeB.read('account:x'), '');
      await nodeA.bump('account:x');
      const moved = await nodeB.read('account:x');
      assert.notEqual(moved, '');
      assert.equal(moved, await raw.get('epoch:account:x'));
      assert.equal(await nodeA.read('account:x'), moved);
      await nodeB.bump('account:x');
      assert.notEqual(await nodeA.read('account:x'), moved);
      assert.equal(await nodeA.read('account:x'), await nodeB.read('account:x'));
    } finally {
      await nodes.dispose();
    }
  });

  it('waits for every subscriber to confirm a move, and reports the ones that never do', async () => {
    const unconfirmed: [number, number][] = [];
    const nodes = await twoNodes('epochs-confirm', {
      confirmTimeoutMs: 1500,
      onUnconfirmed: (missing, delivered) => unconfirmed.push([missing, delivered]),
    });
    // A subscriber that confirms 150 ms late, then one that never confirms.
    const slow = new Redis(TEST_REDIS_URL);
    const publisher = new Redis(TEST_REDIS_URL);
    try {
      const channel = `${nodes.prefix}epochs:0`;
      slow.on('message', (_channel: string, text: string) => {
        const { reply, id } = JSON.parse(text) as { reply: string; id: string };
        setTimeout(() => void publisher.publish(reply, id), 150);
      });
      await slow.subscribe(channel);
      let started = Date.now();
      await nodes.nodeA.bump('account:y');
      const waited = Date.now() - started;
      assert.ok(waited >= 140 && waited < 1500, `waited ${waited} ms for the late confirmation`);
      assert.deepEqual(unconfirmed, []);

      const silent = new Redis(TEST_REDIS_URL);
      try {
        await silent.subscribe(channel);
        started = Date.now();
        await nodes.nodeA.bump('account:y');
        assert.ok(Date.now() - started >= 1490, 'waited out the silent subscriber');
        assert.deepEqual(unconfirmed, [[1, 4]]);
      } finally {
        silent.disconnect();
      }
    } finally {
      slow.disconnect();
      publisher.disconnect();
      await nodes.dispose();
    }
  });

  it('never answers from the copy it had before its subscription dropped', async () => {
    const nodes = await twoNodes('epochs-down');
    try {
      const { nodeA, nodeB, raw } = nodes;
      assert.equal(await nodeB.read('account:z'), '');
      const before = nodeB.subscriptions;
      await killConnection(raw, nodeB.subscriberName!);
      // Moved while it was cut off (no message reaches it): once subscribed again, it reads
      // Redis instead of trusting the copy it had.
      await raw.set('epoch:account:z', 'while-down');
      await waitUntil(() => nodeB.subscriptions > before && nodeB.live);
      assert.equal(await nodeB.read('account:z'), 'while-down');
      await nodeA.bump('account:z');
      assert.equal(await nodeB.read('account:z'), await raw.get('epoch:account:z'));
    } finally {
      await nodes.dispose();
    }
  });
});

/** Closes the server side of the connection named `name`, as a network failure would. */
async function killConnection(client: RedisClient, name: string): Promise<void> {
  const list = (await client.call('CLIENT', 'LIST')) as string;
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  assert.ok(line, `connection ${name} is listed`);
  await client.call('CLIENT', 'KILL', 'ID', /^id=(\d+)/.exec(line)![1]!);
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
