import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COMMAND_TIMEOUT_MS } from '../../adapters/redis/connection.js';
import { clientCredentials, introspect, type Credentials } from '../support/oauth.js';
import { spawnTessera, untilOk, type TesseraProcess } from '../support/process.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { tempDir } from '../support/tessera.js';

const UNAVAILABLE = {
  error: 'temporarily_unavailable',
  error_description: 'token_store is unavailable; retry shortly',
};

describe('Redis goes away and comes back', () => {
  const data = tempDir();
  const admin: Credentials = {
    clientId: 'tessera-admin',
    secret: 'outage-test-admin-secret-0123456789abcdef',
  };
  let redis: PrivateRedis;
  let tessera: TesseraProcess;

  before(async () => {
    redis = await startPrivateRedis();
    tessera = await spawnTessera({
      TESSERA_DATA_DIR: data.dir,
      REDIS_URL: redis.url,
      TESSERA_ADMIN_CLIENT_SECRET: admin.secret,
    });
  });
  after(async () => {
    await tessera?.stop();
    await redis?.dispose();
    data.remove();
  });

  it('waits on a command for less than a second, so a request gets its answer within one', () => {
    assert.ok(COMMAND_TIMEOUT_MS < 1000, `${COMMAND_TIMEOUT_MS} ms`);
  });

  it('answers 503 temporarily_unavailable while Redis is down, stays up, and recovers with nothing lost', async () => {
    const before = await clientCredentials(tessera.url, admin);
    assert.equal(before.status, 200);
    const token = String(before.body.access_token);

    await redis.kill();

    const during = await clientCredentials(tessera.url, admin);
    assert.equal(during.status, 503);
    assert.equal(during.headers.get('retry-after'), '1');
    assert.deepEqual(during.body, UNAVAILABLE);
    const ready = await fetch(`${tessera.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), {
      status: 'unavailable',
      stores: { client_store: 'up', token_store: 'down' },
      down: ['token_store'],
    });
    assert.equal((await fetch(`${tessera.url}/healthz`)).status, 200);
    const adminCall = await fetch(`${tessera.url}/admin/api/clients`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(adminCall.status, 503);
    assert.equal(adminCall.headers.get('retry-after'), '1');
    assert.deepEqual(await adminCall.json(), UNAVAILABLE);
    assert.equal(tessera.child.exitCode, null, 'the process is still running');

    await redis.start();

    await untilOk(() => fetch(`${tessera.url}/readyz`));
    const after = await clientCredentials(tessera.url, admin);
    assert.equal(after.status, 200);
    const info = await introspect(tessera.url, admin, token);
    assert.equal(info.body.active, true, 'the token accepted before the outage is still there');
    const output = tessera.stdout() + tessera.stderr();
    assert.ok(output.includes('"msg":"store unavailable"'));
    for (const secret of [token, admin.secret])
      assert.ok(!output.includes(secret), 'a secret reached the log');
  });

  it(
    'answers 503 instead of hanging while Redis is frozen, and serves again once it answers',
    { timeout: 30_000 },
    async () => {
      const before = await clientCredentials(tessera.url, admin);
      assert.equal(before.status, 200);
      const token = String(before.body.access_token);

      redis.pause();
      try {
        // Token requests, introspection and JWTs all need the token store: each is answered.
        const [issue, read] = await Promise.all([
          clientCredentials(tessera.url, admin),
          introspect(tessera.url, admin, token),
        ]);
        for (const res of [issue, read]) {
          assert.equal(res.status, 503);
          assert.equal(res.headers.get('retry-after'), '1');
          assert.deepEqual(res.body, UNAVAILABLE);
        }
      } finally {
        redis.resume();
      }

      await untilOk(() => clientCredentials(tessera.url, admin));
      assert.equal((await introspect(tessera.url, admin, token)).body.active, true);
    },
  );
});
