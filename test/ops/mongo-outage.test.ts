import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { testMongo, type TestMongo, TEST_SECRETS_KEY } from '../support/mongo.js';
import { clientCredentials, type Credentials } from '../support/oauth.js';
import { spawnTessera, untilOk, type TesseraProcess } from '../support/process.js';
import { deleteByPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { tempDir } from '../support/tessera.js';

// This file's own Redis database, emptied of Tessera's keys afterwards.
const REDIS_URL = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/8`;

describe('MongoDB stops answering and answers again', () => {
  const data = tempDir();
  const admin: Credentials = {
    clientId: 'tessera-admin',
    secret: 'mongo-outage-admin-secret-0123456789abcdef',
  };
  let mongo: TestMongo;
  let tessera: TesseraProcess;

  before(async () => {
    mongo = await testMongo('mongo_outage');
    await deleteByPrefix(REDIS_URL, 'tessera:');
    tessera = await spawnTessera({
      TESSERA_DATA_DIR: data.dir,
      REDIS_URL,
      MONGODB_URI: mongo.uri,
      TESSERA_SECRETS_KEY: TEST_SECRETS_KEY,
      TESSERA_ADMIN_CLIENT_SECRET: admin.secret,
    });
  });
  after(async () => {
    await tessera?.stop();
    await deleteByPrefix(REDIS_URL, 'tessera:');
    await mongo?.dispose();
    data.remove();
  });

  it(
    'answers 503 to what needs it while it is frozen, keeps issuing tokens to known clients, and resumes',
    { timeout: 30_000 },
    async (t) => {
      // Only the wire-protocol double can be frozen from here; a real MongoDB is left alone.
      if (!mongo.double) return t.skip('MONGODB_URI names a real server');
      const token = await tokenFor(tessera.url, admin);
      const listed = await api(tessera.url, token, 'GET', '/clients');
      assert.equal(listed.status, 200);

      mongo.double.freeze();
      try {
        const during = await api(tessera.url, token, 'GET', '/clients');
        assert.equal(during.status, 503);
        assert.equal(during.headers.get('retry-after'), '1');
        assert.deepEqual(during.body, {
          error: 'temporarily_unavailable',
          error_description: 'client_store is unavailable; retry shortly',
        });
        // The admin client is known to this node: its tokens need only Redis.
        assert.equal((await clientCredentials(tessera.url, admin)).status, 200);
      } finally {
        mongo.double.thaw();
      }

      // The client store serves again without a restart.
      await untilOk(() => api(tessera.url, token, 'GET', '/clients'));
    },
  );
});
