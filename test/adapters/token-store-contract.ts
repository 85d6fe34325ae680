import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TokenStore } from '../../src/stores/token-store.js';
import type { ClockedStoreHarness } from './client-store-contract.js';

const id = () => randomUUID().replace(/-/g, '');

/** The behaviour every token store must have, run against each backend. */
export function tokenStoreContract(
  backend: string,
  open: () => Promise<ClockedStoreHarness<TokenStore>>,
): void {
  describe(`token store contract: ${backend}`, () => {
    let harness: ClockedStoreHarness<TokenStore>;
    let store: TokenStore;

    before(async () => {
      harness = await open();
      store = harness.store;
    });
    after(async () => harness.dispose());

    it('returns what was stored, and undefined for an unknown id', async () => {
      const key = id();
      const payload = {
        kind: 'AccessToken',
        jti: key,
        clientId: 'c1',
        scope: 'api:read',
        nested: { a: [1, 2] },
      };
      await store.adapter('AccessToken').upsert(key, payload, 60);
      assert.deepEqual(await store.adapter('AccessToken').find(key), payload);
      assert.equal(await store.adapter('AccessToken').find(id()), undefined);
    });

    it('keeps models apart: the same id in two models is two records', async () => {
      const key = id();
      await store.adapter('AccessToken').upsert(key, { kind: 'AccessToken' }, 60);
      await store.adapter('RefreshToken').upsert(key, { kind: 'RefreshToken' }, 60);
      assert.deepEqual(await store.adapter('AccessToken').find(key), { kind: 'AccessToken' });
      assert.deepEqual(await store.adapter('RefreshToken').find(key), { kind: 'RefreshToken' });
      assert.equal(await store.adapter('AuthorizationCode').find(key), undefined);
    });

    it('overwrites on a second upsert', async () => {
      const key = id();
      const sessions = store.adapter('Session');
      await sessions.upsert(key, { uid: 'u1', accountId: 'a' }, 60);
      await sessions.upsert(key, { uid: 'u1', accountId: 'b' }, 60);
      assert.deepEqual(await sessions.find(key), { uid: 'u1', accountId: 'b' });
    });

    it('never returns a record after it expired; one without expiry stays', async () => {
      const short = id();
      const lasting = id();
      const tokens = store.adapter('ClientCredentials');
      await tokens.upsert(short, { clientId: 'c' }, 1);
      await tokens.upsert(lasting, { clientId: 'c' });
      assert.ok(await tokens.find(short));
      await harness.advance(500);
      assert.ok(await tokens.find(short), 'still there just before it expires');
      await harness.advance(600);
      assert.equal(await tokens.find(short), undefined);
      assert.deepEqual(await tokens.find(lasting), { clientId: 'c' });
    });

    it('marks a consumed record, and a later find sees consumed', async () => {
      const key = id();
      const codes = store.adapter('AuthorizationCode');
      await codes.upsert(key, { grantId: 'g', clientId: 'c' }, 60);
      assert.equal((await codes.find(key))!.consumed, undefined);
      await codes.consume(key);
      const found = await codes.find(key);
      assert.equal(typeof found!.consumed, 'number');
      assert.ok((found!.consumed as number) > 1_700_000_000);
      assert.equal(found!.grantId, 'g');
    });

    it('finds sessions by uid and device codes by user code', async () => {
      const sessionId = id();
      const uid = id();
      await store.adapter('Session').upsert(sessionId, { uid, accountId: 'x' }, 60);
      assert.deepEqual(await store.adapter('Session').findByUid(uid), { uid, accountId: 'x' });
      assert.equal(await store.adapter('Session').findByUid(id()), undefined);

      const deviceCode = id();
      await store.adapter('DeviceCode').upsert(deviceCode, { userCode: 'ABCD-EFGH', clientId: 'c' }, 60);
      assert.deepEqual(await store.adapter('DeviceCode').findByUserCode('ABCD-EFGH'), {
        userCode: 'ABCD-EFGH',
        clientId: 'c',
      });
    });

    it('destroys one record', async () => {
      const key = id();
      await store.adapter('Interaction').upsert(key, { uid: key }, 60);
      await store.adapter('Interaction').destroy(key);
      assert.equal(await store.adapter('Interaction').find(key), undefined);
    });

    it('revokes every record of a grant across models, and nothing else', async () => {
      const grantId = id();
      const keys = { at: id(), rt: id(), code: id(), other: id() };
      await store.adapter('AccessToken').upsert(keys.at, { grantId, clientId: 'c' }, 60);
      await store.adapter('RefreshToken').upsert(keys.rt, { grantId, clientId: 'c' }, 60);
      await store.adapter('AuthorizationCode').upsert(keys.code, { grantId, clientId: 'c' }, 60);
      await store.adapter('AccessToken').upsert(keys.other, { grantId: id(), clientId: 'c' }, 60);
      await store.adapter('RefreshToken').revokeByGrantId(grantId);
      assert.equal(await store.adapter('AccessToken').find(keys.at), undefined);
      assert.equal(await store.adapter('RefreshToken').find(keys.rt), undefined);
      assert.equal(await store.adapter('AuthorizationCode').find(keys.code), undefined);
      assert.ok(await store.adapter('AccessToken').find(keys.other));
    });

    it('revokes every record of a client across models, and nothing of another client', async () => {
      const clientId = `client-${id()}`;
      const other = `client-${id()}`;
      const keys = { at: id(), grant: id(), code: id(), otherAt: id(), otherCc: id() };
      await store.adapter('AccessToken').upsert(keys.at, { clientId, grantId: keys.grant }, 60);
      await store.adapter('Grant').upsert(keys.grant, { clientId, accountId: 'u' }, 60);
      await store.adapter('AuthorizationCode').upsert(keys.code, { clientId, grantId: keys.grant }, 60);
      await store.adapter('AccessToken').upsert(keys.otherAt, { clientId: other, grantId: id() }, 60);
      await store.adapter('ClientCredentials').upsert(keys.otherCc, { clientId: other }, 60);
      await store.revokeByClientId(clientId);
      assert.equal(await store.adapter('AccessToken').find(keys.at), undefined);
      assert.equal(await store.adapter('Grant').find(keys.grant), undefined);
      assert.equal(await store.adapter('AuthorizationCode').find(keys.code), undefined);
      assert.ok(await store.adapter('AccessToken').find(keys.otherAt));
      assert.ok(await store.adapter('ClientCredentials').find(keys.otherCc));
    });

    it('answers a ping', async () => {
      await store.ping();
    });
  });
}
