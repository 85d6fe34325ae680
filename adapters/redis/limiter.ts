import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { Limiter } from '../../src/stores/limiter.js';
import { rateLimiterPort } from '../rate-limits.js';
import type { RedisClient } from './connection.js';

/** Limits in Redis (one server, Sentinel or Cluster): every node counts into the same keys. */
export function createRedisLimiter(client: RedisClient): Limiter {
  return rateLimiterPort(
    'token_store',
    (rule) =>
      new RateLimiterRedis({
        storeClient: client,
        keyPrefix: `limit:${rule.name}`,
        points: rule.points,
        duration: rule.windowSeconds,
      }),
    // One EXISTS (pipelined with the request's other commands) instead of a MULTI of GET and
    // PTTL for every key that has no failures counted.
    async (storeKey) => (await client.exists(storeKey)) === 1,
  );
}
