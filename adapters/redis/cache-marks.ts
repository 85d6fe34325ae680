import { randomUUID } from 'node:crypto';
import type { CacheMarks } from '../../src/stores/cache-marks.js';
import { guarded, type RedisClient } from './connection.js';

const keyOf = (name: string) => `mark:${name}`;

/** Cache marks as plain Redis strings: one GET per read, so every node sees a move at once. */
export function createRedisCacheMarks(client: RedisClient): CacheMarks {
  return {
    read: (name) => guarded(async () => (await client.get(keyOf(name))) ?? ''),
    bump: (name) =>
      guarded(async () => {
        await client.set(keyOf(name), randomUUID());
      }),
  };
}
