import { Cluster } from 'ioredis';
import type { StateReader } from '../../src/stores/state-reader.js';
import { markKey } from './cache-marks.js';
import { guarded, type RedisClient } from './connection.js';
import { limitKey } from './limiter.js';
import { parseRecord, recordKey } from './token-store.js';

/**
 * The request state read in Redis: one MGET of every mark, counter and record asked for, so a
 * request waits on Redis once however many of them it needs. On Redis Cluster the keys fall in
 * different hash slots, which one MGET cannot span: there each key is a GET of its own, all sent
 * at once (still one wait, several commands).
 */
export function createRedisStateReader(client: RedisClient): StateReader {
  const cluster = client instanceof Cluster;
  const fetch = (keys: string[]): Promise<(string | null)[]> =>
    cluster ? Promise.all(keys.map((key) => client.get(key))) : client.mget(keys);
  return {
    read: (query) =>
      guarded(async () => {
        const keys = [
          ...query.marks.map(markKey),
          ...query.counters.map(({ rule, key }) => limitKey(rule, key)),
          ...query.records.map(({ model, id }) => recordKey(model, id)),
        ];
        const values = keys.length === 0 ? [] : await fetch(keys);
        const marks = values.slice(0, query.marks.length);
        const hits = values.slice(marks.length, marks.length + query.counters.length);
        const records = values.slice(marks.length + hits.length);
        return {
          marks: marks.map((mark) => mark ?? ''),
          hits: hits.map((count) => Math.max(0, Number(count ?? 0))),
          records: records.map(parseRecord),
        };
      }),
  };
}
