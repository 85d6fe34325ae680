import { randomUUID } from 'node:crypto';
import { ReplyError } from 'ioredis';
import { StoreUnavailableError } from '../../src/errors.js';
import type { CacheMarks } from '../../src/stores/cache-marks.js';
import type { RedisClient } from './connection.js';

const keyOf = (name: string) => `mark:${name}`;

/** Cache marks as plain Redis strings: one GET per read, so every node sees a move at once. */
export function createRedisCacheMarks(client: RedisClient): CacheMarks {
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ReplyError) throw error;
      throw new StoreUnavailableError('token_store', { cause: error });
    }
  };
  return {
    read: (name) => guarded(async () => (await client.get(keyOf(name))) ?? ''),
    bump: (name) =>
      guarded(async () => {
        await client.set(keyOf(name), randomUUID());
      }),
  };
}
