import type { Limiter, LimitRule, LimitState } from '../../src/stores/limiter.js';
import { guarded, type RedisClient } from './connection.js';

/**
 * Where the hits of `key` under `rule` are counted: a plain integer string whose lifetime is the
 * rule's window from its first hit. The request state read (state-reader.ts) reads it with GET.
 */
export const limitKey = (rule: LimitRule, key: string): string => `limit:${rule.name}:${key}`;

/** One hit: the count and the window's remaining milliseconds (the window starts at the first hit). */
const HIT = `
local hits = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {hits, left}`;

/** Takes one hit back; a count that falls to zero leaves no key behind. */
const REWARD = `
local hits = redis.call('DECR', KEYS[1])
if hits <= 0 then redis.call('DEL', KEYS[1]) end
return hits`;

/** The count and the remaining milliseconds, without counting anything ({0, 0}: none). */
const CHECK = `
local hits = redis.call('GET', KEYS[1])
if not hits then return {0, 0} end
return {tonumber(hits), redis.call('PTTL', KEYS[1])}`;

interface ScriptedClient {
  tesseraLimitHit(key: string, windowMs: number): Promise<[number, number]>;
  tesseraLimitReward(key: string): Promise<number>;
  tesseraLimitCheck(key: string): Promise<[number, number]>;
}

/**
 * Fixed-window failure counters in Redis (one server, Sentinel or Cluster): every node counts
 * into the same keys, and each call is one script on one key, so one slot on a cluster. Written
 * here rather than through rate-limiter-flexible because the token path reads a counter together
 * with other keys in one MGET, which needs the counter's layout to be Tessera's own, and because
 * a count taken back to zero must leave nothing to read.
 */
export function createRedisLimiter(client: RedisClient): Limiter {
  client.defineCommand('tesseraLimitHit', { numberOfKeys: 1, lua: HIT });
  client.defineCommand('tesseraLimitReward', { numberOfKeys: 1, lua: REWARD });
  client.defineCommand('tesseraLimitCheck', { numberOfKeys: 1, lua: CHECK });
  const scripted = client as unknown as ScriptedClient;
  const stateOf = (rule: LimitRule, [hits, leftMs]: [number, number]): LimitState => ({
    hits,
    limited: hits >= rule.points,
    retryAfterSeconds: hits > 0 ? Math.max(1, Math.ceil(leftMs / 1000)) : 0,
  });
  return {
    check: (rule, key) =>
      guarded(async () => stateOf(rule, await scripted.tesseraLimitCheck(limitKey(rule, key)))),
    hit: (rule, key) =>
      guarded(async () =>
        stateOf(rule, await scripted.tesseraLimitHit(limitKey(rule, key), rule.windowSeconds * 1000)),
      ),
    reward: (rule, key) =>
      guarded(async () => {
        await scripted.tesseraLimitReward(limitKey(rule, key));
      }),
    reset: (rule, key) =>
      guarded(async () => {
        await client.unlink(limitKey(rule, key));
      }),
  };
}
