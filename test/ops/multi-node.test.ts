import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clientCredentials, introspect, revoke, type Credentials } from '../support/oauth.js';
import { spawnTessera, type TesseraProcess } from '../support/process.js';
import { deleteByPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { testMongo, type TestMongo, TEST_SECRETS_KEY } from '../support/mongo.js';
import { tempDir } from '../support/tessera.js';

// This file's own Redis database, emptied of Tessera's keys afterwards.
const REDIS_URL = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/7`;

describe('two Tessera processes sharing one Redis and one MongoDB', () => {
  const data = tempDir();
  const admin: Credentials = {
    clientId: 'tessera-admin',
    secret: 'multi-node-admin-secret-0123456789abcdef',
  };
  let one: TesseraProcess;
  let two: TesseraProcess;
  let mongo: TestMongo;

  before(async () => {
    // A real MongoDB when MONGODB_URI is set, else the wire-protocol double in this process.
    mongo = await testMongo('multi_node');
    const env = {
      TESSERA_DATA_DIR: data.dir,
      REDIS_URL,
      MONGODB_URI: mongo.uri,
      TESSERA_SECRETS_KEY: TEST_SECRETS_KEY,
      TESSERA_ADMIN_CLIENT_SECRET: admin.secret,
    };
    one = await spawnTessera(env);
    two = await spawnTessera(env);
  });
  after(async () => {
    await one?.stop();
    await two?.stop();
    await deleteByPrefix(REDIS_URL, 'tessera:');
    await mongo?.dispose();
    data.remove();
  });

  it('introspects on one node a token issued by the other', async () => {
    const issued = await clientCredentials(one.url, admin);
    assert.equal(issued.status, 200);
    const info = await introspect(two.url, admin, String(issued.body.access_token));
    assert.equal(info.body.active, true);
    assert.equal(info.body.client_id, 'tessera-admin');
  });

  it('serves the same JWKS from both nodes', async () => {
    const [a, b] = await Promise.all(
      [one, two].map(async (node) => (await fetch(`${node.url}/oauth/jwks`)).json()),
    );
    assert.deepEqual(a, b);
    assert.equal((a as { keys: unknown[] }).keys.length, 2);
  });

  it('makes a token revoked on one node inactive on the other', async () => {
    const token = String((await clientCredentials(two.url, admin)).body.access_token);
    assert.equal((await introspect(one.url, admin, token)).body.active, true);
    assert.equal((await revoke(one.url, admin, token)).status, 200);
    assert.deepEqual((await introspect(two.url, admin, token)).body, { active: false });
  });

  it('reports both stores ready on both nodes', async () => {
    for (const node of [one, two]) {
      const res = await fetch(`${node.url}/readyz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        status: 'ready',
        stores: { client_store: 'up', token_store: 'up' },
      });
    }
  });
});
