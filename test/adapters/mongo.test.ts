import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openMongoClientStore } from '../../adapters/mongo/client-store.js';
import { testMongo } from '../support/mongo.js';
import { clientStoreContract } from './client-store-contract.js';

// Against the MongoDB at MONGODB_URI when it is set, else the wire-protocol test double.
clientStoreContract(process.env.MONGODB_URI ? 'mongodb' : 'mongodb (wire-protocol test double)', async () => {
  const mongo = await testMongo('contract');
  const { store } = await openMongoClientStore(mongo.uri);
  return {
    store,
    async dispose() {
      await store.close();
      await mongo.dispose();
    },
  };
});

describe('mongodb client store input safety', () => {
  it('never lets an object in place of a string become a query operator', async () => {
    const mongo = await testMongo('injection');
    const { store } = await openMongoClientStore(mongo.uri);
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
      await mongo.dispose();
    }
  });
});
