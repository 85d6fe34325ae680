import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CacheMarks } from '../../src/stores/cache-marks.js';
import type { Limiter } from '../../src/stores/limiter.js';
import type { StateReader } from '../../src/stores/state-reader.js';
import type { TokenStore } from '../../src/stores/token-store.js';

/** The three stores of one backend and its state reader, on the same keys. */
export interface StateReaderHarness {
  marks: CacheMarks;
  limiter: Limiter;
  tokenStore: TokenStore;
  reader: StateReader;
  dispose(): Promise<void>;
}

/** What every state reader must answer: exactly what the three stores answer one by one. */
export function stateReaderContract(backend: string, open: () => Promise<StateReaderHarness>): void {
  describe(`state reader contract: ${backend}`, () => {
    let h: StateReaderHarness;
    before(async () => {
      h = await open();
    });
    after(async () => h.dispose());

    const name = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

    it('answers an empty query with empty lists', async () => {
      assert.deepEqual(await h.reader.read({ marks: [], counters: [], records: [] }), {
        marks: [],
        hits: [],
        records: [],
      });
    });

    it('reads marks, counters and records together, in the order asked', async () => {
      const [moved, unmoved] = [name('moved'), name('unmoved')];
      await h.marks.bump(moved);
      const rule = { name: name('rule'), points: 3, windowSeconds: 300 };
      await h.limiter.hit(rule, 'counted');
      await h.limiter.hit(rule, 'counted');
      await h.limiter.hit(rule, 'rewarded');
      await h.limiter.reward(rule, 'rewarded');
      const id = name('token');
      await h.tokenStore.adapter('ClientCredentials').upsert(id, { jti: id, clientId: 'c1' }, 60);
      await h.tokenStore.adapter('RefreshToken').upsert(id, { jti: id, clientId: 'c1', grantId: 'g1' }, 60);
      await h.tokenStore.adapter('RefreshToken').consume(id);

      const snapshot = await h.reader.read({
        marks: [unmoved, moved],
        counters: [
          { rule, key: 'counted' },
          { rule, key: 'never' },
          { rule, key: 'rewarded' },
        ],
        records: [
          { model: 'AccessToken', id },
          { model: 'ClientCredentials', id },
          { model: 'RefreshToken', id },
        ],
      });
      assert.deepEqual(snapshot.marks, ['', await h.marks.read(moved)]);
      assert.notEqual(snapshot.marks[1], '');
      assert.deepEqual(snapshot.hits, [2, 0, 0]);
      assert.deepEqual(snapshot.records, [
        undefined,
        await h.tokenStore.adapter('ClientCredentials').find(id),
        await h.tokenStore.adapter('RefreshToken').find(id),
      ]);
      assert.equal(snapshot.records[1]?.jti, id);
      assert.equal(typeof snapshot.records[2]?.consumed, 'number');
    });

    it('sees a move, a hit and a removal made since the last read', async () => {
      const mark = name('mark');
      const rule = { name: name('rule'), points: 2, windowSeconds: 300 };
      const id = name('token');
      const query = {
        marks: [mark],
        counters: [{ rule, key: 'k' }],
        records: [{ model: 'ClientCredentials', id }],
      };
      await h.tokenStore.adapter('ClientCredentials').upsert(id, { jti: id }, 60);
      const first = await h.reader.read(query);
      await h.marks.bump(mark);
      await h.limiter.hit(rule, 'k');
      await h.tokenStore.adapter('ClientCredentials').destroy(id);
      const second = await h.reader.read(query);
      assert.notEqual(second.marks[0], first.marks[0]);
      assert.deepEqual([first.hits, second.hits], [[0], [1]]);
      assert.deepEqual([first.records[0]?.jti, second.records[0]], [id, undefined]);
    });
  });
}
