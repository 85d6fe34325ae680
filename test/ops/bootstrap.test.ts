import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTessera, tempDir } from '../support/tessera.js';
import { verifySecret } from '../../src/crypto/secrets.js';

describe('bootstrap contents', () => {
  it('creates account default, tessera-admin, admin user and tessera-console exactly as the contract says', async () => {
    const tessera = await startTessera();
    try {
      const { clientStore } = tessera.container;
      assert.equal((await clientStore.getAccount('default'))?.id, 'default');

      const admin = await clientStore.getClient('tessera-admin');
      assert.equal(admin?.account_id, 'default');
      assert.equal(admin?.client_type, 'confidential');
      assert.deepEqual(admin?.grant_types, ['client_credentials']);
      assert.equal(admin?.token_endpoint_auth_method, 'client_secret_basic');
      assert.equal(admin?.scope, 'admin accounts:admin');
      assert.equal(admin?.first_party, true);

      const user = await clientStore.findUserByUsername('default', 'admin');
      assert.equal(user?.role, 'admin');
      assert.equal(await verifySecret(user!.password_hash, 'test-admin-password'), true);

      const consoleClient = await clientStore.getClient('tessera-console');
      assert.equal(consoleClient?.client_type, 'public');
      assert.equal(consoleClient?.token_endpoint_auth_method, 'none');
      assert.deepEqual(consoleClient?.grant_types, ['authorization_code', 'refresh_token']);
      assert.deepEqual(consoleClient?.redirect_uris, [`${tessera.url}/admin/callback`]);
      assert.equal(consoleClient?.first_party, true);
      assert.deepEqual(consoleClient?.secrets, []);

      const clients = await clientStore.listClients('default', { limit: 10 });
      assert.equal(clients.data.length, 2);
    } finally {
      await tessera.close();
    }
  });

  it('changes nothing on a later start, even with different secrets in the environment', async () => {
    const data = tempDir();
    try {
      const first = await startTessera({ dataDir: data.dir });
      const before = await first.container.clientStore.getClient('tessera-admin');
      const userBefore = await first.container.clientStore.findUserByUsername('default', 'admin');
      await first.close();

      const second = await startTessera({
        dataDir: data.dir,
        env: {
          TESSERA_ADMIN_CLIENT_SECRET: 'a-different-secret-that-is-long-enough-xyz',
          TESSERA_ADMIN_PASSWORD: 'another-password',
        },
      });
      try {
        assert.deepEqual(second.container.generated, {});
        assert.deepEqual(await second.container.clientStore.getClient('tessera-admin'), before);
        assert.deepEqual(
          await second.container.clientStore.findUserByUsername('default', 'admin'),
          userBefore,
        );
      } finally {
        await second.close();
      }
    } finally {
      data.remove();
    }
  });
});
