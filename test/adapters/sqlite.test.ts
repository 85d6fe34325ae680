import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSqliteClientStore } from '../../adapters/sqlite/client-store.js';
import { openDatabase } from '../../adapters/sqlite/database.js';
import { createSqliteTokenStore } from '../../adapters/sqlite/token-store.js';
import { createSqliteCacheMarks } from '../../adapters/sqlite/cache-marks.js';
import { createSqliteLimiter } from '../../adapters/sqlite/limiter.js';
import { createSqliteStateReader } from '../../adapters/sqlite/state-reader.js';
import { tempDir } from '../support/tessera.js';
import { clientRecord, clientStoreContract } from './client-store-contract.js';
import { tokenStoreContract } from './token-store-contract.js';
import { cacheMarksContract } from './cache-marks-contract.js';
import { limiterContract } from './limiter-contract.js';
import { stateReaderContract } from './state-reader-contract.js';

clientStoreContract('sqlite', async () => {
  const dir = tempDir();
  const store = createSqliteClientStore(openDatabase(dir.dir));
  return { store, dispose: async () => (await store.close(), dir.remove()) };
});

/** Two handles on one data dir, as two processes have. */
function twoHandles<T>(make: (db: ReturnType<typeof openDatabase>) => T) {
  const dir = tempDir();
  const dbs = [openDatabase(dir.dir), openDatabase(dir.dir)] as const;
  return {
    pair: [make(dbs[0]), make(dbs[1])] as [T, T],
    dispose: async () => {
      for (const db of dbs) db.close();
      dir.remove();
    },
  };
}

cacheMarksContract('sqlite', async () => {
  const { pair, dispose } = twoHandles(createSqliteCacheMarks);
  return { marks: pair, dispose };
});

limiterContract('sqlite', async () => {
  const { pair, dispose } = twoHandles((db) => createSqliteLimiter(db));
  return { limiters: pair, dispose };
});

stateReaderContract('sqlite', async () => {
  const dir = tempDir();
  const db = openDatabase(dir.dir);
  const stores = {
    marks: createSqliteCacheMarks(db),
    limiter: createSqliteLimiter(db),
    tokenStore: createSqliteTokenStore(db),
  };
  return {
    ...stores,
    reader: createSqliteStateReader(stores),
    dispose: async () => (await stores.tokenStore.close(), dir.remove()),
  };
});

tokenStoreContract('sqlite', async () => {
  const dir = tempDir();
  let now = Date.now();
  const store = createSqliteTokenStore(openDatabase(dir.dir), { now: () => now });
  return {
    store,
    advance: async (ms) => void (now += ms),
    dispose: async () => (await store.close(), dir.remove()),
  };
});

describe('sqlite embedded store', () => {
  it('ends a limit window when its time has passed (injected clock)', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_800_000_000_000 });
    const { pair, dispose } = twoHandles((db) => createSqliteLimiter(db));
    try {
      const [limiter] = pair;
      const rule = { name: 'window', points: 2, windowSeconds: 60 };
      await limiter.hit(rule, 'k');
      await limiter.hit(rule, 'k');
      assert.deepEqual(await limiter.check(rule, 'k'), { hits: 2, limited: true, retryAfterSeconds: 60 });
      t.mock.timers.tick(59_000);
      assert.equal((await limiter.check(rule, 'k')).limited, true);
      t.mock.timers.tick(1_001);
      assert.deepEqual(await limiter.check(rule, 'k'), { hits: 0, limited: false, retryAfterSeconds: 0 });
      assert.equal((await limiter.hit(rule, 'k')).hits, 1, 'a new window starts');
    } finally {
      await dispose();
    }
  });

  it('sweeps expired token rows without anyone reading them (injected clock)', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    let now = 1_800_000_000_000;
    const dir = tempDir();
    const db = openDatabase(dir.dir);
    const store = createSqliteTokenStore(db, { sweepIntervalMs: 50, now: () => now });
    try {
      await store.adapter('AccessToken').upsert('gone', { clientId: 'c' }, 1);
      await store.adapter('AccessToken').upsert('kept', { clientId: 'c' }, 600);
      now += 1_001;
      t.mock.timers.tick(50);
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
