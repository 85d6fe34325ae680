import type { CacheMarks } from '../../src/stores/cache-marks.js';
import type { Limiter } from '../../src/stores/limiter.js';
import type { StateReader } from '../../src/stores/state-reader.js';
import type { TokenStore } from '../../src/stores/token-store.js';

/**
 * The request state read in the embedded file: the marks, counters and records read one after
 * the other through their own stores. Each is a local statement, so there is no round trip to
 * save.
 */
export function createSqliteStateReader(stores: {
  marks: CacheMarks;
  limiter: Limiter;
  tokenStore: TokenStore;
}): StateReader {
  return {
    async read(query) {
      const marks = await Promise.all(query.marks.map((name) => stores.marks.read(name)));
      const counted = await Promise.all(
        query.counters.map(({ rule, key }) => stores.limiter.check(rule, key)),
      );
      const records = await Promise.all(
        query.records.map(({ model, id }) => stores.tokenStore.adapter(model).find(id)),
      );
      return { marks, hits: counted.map((state) => state.hits), records };
    },
  };
}
