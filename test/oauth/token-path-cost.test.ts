import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { clientCredentials, introspect, type Credentials } from '../support/oauth.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const ORDERS = 'https://orders.example.com';
const REQUESTS = 20;

/**
 * What the token path costs in Redis once a client is known and its secret verified (the design
 * in bench/README.md): counted with `INFO commandstats` on a Redis of this file's own, which also
 * counts the calls made inside scripts.
 */
describe('Redis commands of a steady-state token', () => {
  let redis: PrivateRedis;
  let stats: Redis;
  let tessera: RunningTessera;
  let creds: Credentials;

  before(async () => {
    redis = await startPrivateRedis();
    stats = new Redis(redis.url);
    // No background look at the key ring while commands are counted.
    tessera = await startTessera({ env: { REDIS_URL: redis.url }, keyRingPollMs: 3_600_000 });
    const root = await tokenFor(tessera.url);
    const resource = await api(tessera, root, 'POST', '/resources', {
      identifier: ORDERS,
      name: 'Orders',
      scope: 'api:read',
      access_token_format: 'jwt',
    });
    assert.equal(resource.status, 201);
    creds = credentialsOf(
      await api(tessera, root, 'POST', '/clients', { client_name: 'steady', scope: 'api:read' }),
    );
    // The first requests learn the client, verify its secret and find the resource server.
    assert.equal((await clientCredentials(tessera.url, creds)).status, 200);
    assert.equal((await clientCredentials(tessera.url, creds, { resource: ORDERS })).status, 200);
  });
  after(async () => {
    stats?.disconnect();
    await tessera?.close();
    await redis?.dispose();
  });

  /** The commands Redis ran for `REQUESTS` calls of `request`, by name. */
  async function commandsOf(request: () => Promise<{ status: number }>): Promise<Record<string, number>> {
    await stats.config('RESETSTAT');
    for (let i = 0; i < REQUESTS; i += 1) assert.equal((await request()).status, 200);
    const text = await stats.info('commandstats');
    const counted: Record<string, number> = {};
    for (const [, command, calls] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (command === 'info' || command!.startsWith('config')) continue;
      counted[command!] = Number(calls);
    }
    return counted;
  }

  it('an opaque token: one MGET (account mark and failure counter) and the token SET', async () => {
    assert.deepEqual(await commandsOf(() => clientCredentials(tessera.url, creds)), {
      mget: REQUESTS,
      set: REQUESTS,
    });
  });

  it('a JWT access token: the MGET alone', async () => {
    assert.deepEqual(await commandsOf(() => clientCredentials(tessera.url, creds, { resource: ORDERS })), {
      mget: REQUESTS,
    });
  });

  it('introspection of an opaque token: one MGET that also reads the token', async () => {
    const token = String((await clientCredentials(tessera.url, creds)).body.access_token);
    assert.deepEqual(await commandsOf(() => introspect(tessera.url, creds, token)), { mget: REQUESTS });
    assert.equal((await introspect(tessera.url, creds, token)).body.active, true);
  });

  it('reads the mark, the counter and the token records in that one command', async () => {
    const token = String((await clientCredentials(tessera.url, creds)).body.access_token);
    const monitor = await stats.monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
    try {
      assert.equal((await introspect(tessera.url, creds, token)).status, 200);
      for (let waited = 0; seen.length === 0 && waited < 100; waited += 1) await sleep(20);
      assert.equal(seen.length, 1, JSON.stringify(seen));
      const [command, ...keys] = seen[0]!;
      assert.equal(command!.toLowerCase(), 'mget');
      assert.equal(keys[0], 'tessera:mark:account:default');
      assert.match(keys[1]!, /^tessera:limit:client-auth:[\w-]{43}\|127\.0\.0\.1$/);
      assert.deepEqual(keys.slice(2), [
        `tessera:AccessToken:${token}`,
        `tessera:ClientCredentials:${token}`,
        `tessera:RefreshToken:${token}`,
      ]);
    } finally {
      monitor.disconnect();
    }
  });
});
