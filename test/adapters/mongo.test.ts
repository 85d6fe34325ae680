import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { openMongoClientStore } from '../../adapters/mongo/client-store.js';
import { MongoWireServer } from '../support/mongo-wire-server.js';
import { clientStoreContract } from './client-store-contract.js';

/**
 * Runs against the MongoDB at MONGODB_URI when it is set (in a fresh database that is dropped
 * afterwards), else against the wire-protocol test double.
 */
clientStoreContract(process.env.MONGODB_URI ? 'mongodb' : 'mongodb (wire-protocol test double)', async () => {
  const external = process.env.MONGODB_URI;
  const double = external ? undefined : new MongoWireServer();
  const base = external ?? (await double!.start());
  const uri = withDatabase(base, `tessera_test_${randomUUID().slice(0, 8)}`);
  const { store, db } = await openMongoClientStore(uri);
  return {
    store,
    async dispose() {
      if (external) await db.dropDatabase();
      await store.close();
      await double?.stop();
    },
  };
});

/** The same URI naming another database. */
export function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}

describe('mongodb client store input safety', () => {
  it('never lets an object in place of a string become a query operator', async () => {
    const double = new MongoWireServer();
    const { store } = await openMongoClientStore(withDatabase(await double.start(), 'injection'));
    try {
      const injected = { $gt: '' } as unknown as string;
      await assert.rejects(store.getClient(injected), TypeError);
      await assert.rejects(store.findUserByUsername('default', injected), TypeError);
      await assert.rejects(store.listClients(injected, { limit: 10 }), TypeError);
      await assert.rejects(store.listClients('default', { limit: 10, q: injected }), TypeError);
      await assert.rejects(store.deleteClient(injected), TypeError);
      // A name full of regex syntax is a literal substring, not a pattern.
      const page = await store.listClients('default', { limit: 10, q: '.*' });
      assert.deepEqual(page.data, []);
    } finally {
      await store.close();
      await double.stop();
    }
  });
});
