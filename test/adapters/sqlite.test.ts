import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { createSqliteClientStore } from '../../adapters/sqlite/client-store.js';
import { openDatabase } from '../../adapters/sqlite/database.js';
import { createSqliteTokenStore } from '../../adapters/sqlite/token-store.js';
import { tempDir } from '../support/tessera.js';
import { clientRecord, clientStoreContract } from './client-store-contract.js';
import { tokenStoreContract } from './token-store-contract.js';

clientStoreContract('sqlite', async () => {
  const dir = tempDir();
  const store = createSqliteClientStore(openDatabase(dir.dir));
  return { store, dispose: async () => (await store.close(), dir.remove()) };
});

tokenStoreContract('sqlite', async () => {
  const dir = tempDir();
  const store = createSqliteTokenStore(openDatabase(dir.dir));
  return { store, dispose: async () => (await store.close(), dir.remove()) };
});

describe('sqlite embedded store', () => {
  it('sweeps expired token rows without anyone reading them', async () => {
    const dir = tempDir();
    const db = openDatabase(dir.dir);
    const store = createSqliteTokenStore(db, { sweepIntervalMs: 50 });
    try {
      await store.adapter('AccessToken').upsert('gone', { clientId: 'c' }, 1);
      await store.adapter('AccessToken').upsert('kept', { clientId: 'c' }, 600);
      await sleep(1300);
      const ids = (db.prepare('SELECT id FROM tokens').all() as { id: string }[]).map((r) => r.id);
      assert.deepEqual(ids, ['kept']);
    } finally {
      await store.close();
      dir.remove();
    }
  });

  it('shares one file between two handles, as two processes on one data dir do', async () => {
    const dir = tempDir();
    const first = createSqliteClientStore(openDatabase(dir.dir));
    const second = createSqliteClientStore(openDatabase(dir.dir));
    try {
      const client = clientRecord();
      await first.createClient(client);
      assert.deepEqual(await second.getClient(client.client_id), client);
      const [a, b] = await Promise.all([
        first.ensureSecretValue('jwks', () => 'one'),
        second.ensureSecretValue('jwks', () => 'two'),
      ]);
      assert.equal(a, b);
    } finally {
      await first.close();
      await second.close();
      dir.remove();
    }
  });
});
