import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { StoreUnavailableError } from '../src/errors.js';
import type { Limiter, LimitRule, LimitState } from '../src/stores/limiter.js';

/**
 * The limiter port over rate-limiter-flexible: one of its limiters per rule, made by `create`
 * on first use. A failure of the backing store is {@link StoreUnavailableError} for `store`.
 */
export function rateLimiterPort(store: string, create: (rule: LimitRule) => RateLimiterAbstract): Limiter {
  const limiters = new Map<string, RateLimiterAbstract>();
  const limiterFor = (rule: LimitRule) => {
    let limiter = limiters.get(rule.name);
    if (!limiter) {
      limiter = create(rule);
      limiters.set(rule.name, limiter);
    }
    return limiter;
  };
  const stateOf = (rule: LimitRule, res: RateLimiterRes | null): LimitState => {
    // A count taken back to zero reads as no count at all.
    const hits = Math.max(0, res?.consumedPoints ?? 0);
    return {
      hits,
      limited: hits >= rule.points,
      retryAfterSeconds: res && hits > 0 ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0,
    };
  };
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw new StoreUnavailableError(store, { cause: error });
    }
  };
  return {
    check: (rule, key) => guarded(async () => stateOf(rule, await limiterFor(rule).get(key))),
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
