import { randomUUID } from 'node:crypto';
import type { CacheMarks } from '../../src/stores/cache-marks.js';
import { guarded, type RedisClient } from './connection.js';

/** Where mark `name` is kept (read by the request state read too, state-reader.ts). */
export const markKey = (name: string): string => `mark:${name}`;

/** Cache marks as plain Redis strings: one GET per read, so every node sees a move at once. */
export function createRedisCacheMarks(client: RedisClient): CacheMarks {
  return {
    read: (name) => guarded(async () => (await client.get(markKey(name))) ?? ''),
    bump: (name) =>
      guarded(async () => {
        await client.set(markKey(name), randomUUID());
      }),
  };
}
