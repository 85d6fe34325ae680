import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { clientCredentials, introspect, type Credentials } from '../support/oauth.js';
import { spawnTessera, type TesseraProcess } from '../support/process.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { tempDir } from '../support/tessera.js';

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

  it('answers 503 temporarily_unavailable while Redis is down, stays up, and recovers with nothing lost', async () => {
    const before = await clientCredentials(tessera.url, admin);
    assert.equal(before.status, 200);
    const token = String(before.body.access_token);

    await redis.stop();

    const during = await clientCredentials(tessera.url, admin);
    assert.equal(during.status, 503);
    assert.equal(during.headers.get('retry-after'), '1');
    assert.deepEqual(during.body, {
      error: 'temporarily_unavailable',
      error_description: 'token_store is unavailable; retry shortly',
    });
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
    assert.deepEqual(await adminCall.json(), {
      error: 'temporarily_unavailable',
      error_description: 'token_store is unavailable; retry shortly',
    });
    assert.equal(tessera.child.exitCode, null, 'the process is still running');

    await redis.start();

    let recovered = 0;
    for (let attempt = 0; attempt < 100 && recovered !== 200; attempt += 1) {
      await sleep(100);
      recovered = (await fetch(`${tessera.url}/readyz`)).status;
    }
    assert.equal(recovered, 200, 'ready again without a restart');
    const after = await clientCredentials(tessera.url, admin);
    assert.equal(after.status, 200);
    const info = await introspect(tessera.url, admin, token);
    assert.equal(info.body.active, true, 'the token accepted before the outage is still there');
    const output = tessera.stdout() + tessera.stderr();
    assert.ok(output.includes('"msg":"store unavailable"'));
    for (const secret of [token, admin.secret])
      assert.ok(!output.includes(secret), 'a secret reached the log');
  });
});
