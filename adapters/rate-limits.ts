import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { StoreUnavailableError } from '../src/errors.js';
import type { Limiter, LimitRule, LimitState } from '../src/stores/limiter.js';

/**
 * The limiter port over rate-limiter-flexible: one of its limiters per rule, made by `create`
 * on first use. A failure of the backing store is {@link StoreUnavailableError} for `store`.
 */
export function rateLimiterPort(
  store: string,
  create: (rule: LimitRule) => RateLimiterAbstract,
  /**
   * Whether the store holds a counter under `storeKey` at all: a cheaper question than the
   * limiter's own read, asked first, since most keys have no failures counted.
   */
  counted?: (storeKey: string) => Promise<boolean>,
): Limiter {
  const limiters = new Map<string, RateLimiterAbstract>();
  const limiterFor = (rule: LimitRule) => {
    let limiter = limiters.get(rule.name);
    if (!limiter) {
      limiter = create(rule);
      limiters.set(rule.name, limiter);
    }
    return limiter;
  };
  const stateOf = (rule: LimitRule, res: RateLimiterRes | null): LimitState => ({
    hits: res?.consumedPoints ?? 0,
    limited: (res?.consumedPoints ?? 0) >= rule.points,
    retryAfterSeconds: res ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0,
  });
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw new StoreUnavailableError(store, { cause: error });
    }
  };
  return {
    check: (rule, key) =>
      guarded(async () => {
        const limiter = limiterFor(rule);
        if (counted && !(await counted(limiter.getKey(key)))) return stateOf(rule, null);
        return stateOf(rule, await limiter.get(key));
      }),
    hit: (rule, key) => guarded(async () => stateOf(rule, await limiterFor(rule).penalty(key, 1))),
    reward: (rule, key) =>
      guarded(async () => {
        await limiterFor(rule).reward(key, 1);
      }),
    reset: (rule, key) =>
      guarded(async () => {
        await limiterFor(rule).delete(key);
      }),
  };
}
