/**
 * The limiter port: failure counters with a fixed window, shared by every process on the same
 * store, so limits built on them (login throttling) hold across nodes. Implementations live in
 * `adapters/` (SQLite, Redis, built on rate-limiter-flexible) and must pass
 * `test/adapters/limiter-contract.ts`.
 */

/** One kind of limit: at most `points` hits per key within `windowSeconds` of its first hit. */
export interface LimitRule {
  /** Names the counters of this rule apart from every other rule's. */
  name: string;
  points: number;
  windowSeconds: number;
}

/** Where a key stands under a rule. */
export interface LimitState {
  /** Hits counted in the current window (0 when there is none). */
  hits: number;
  /** Whether the key reached the rule's points: further attempts should be refused. */
  limited: boolean;
  /** Seconds until the window ends (0 when there is none), for `Retry-After`. */
  retryAfterSeconds: number;
}

export interface Limiter {
  /** Where `key` stands under `rule`, without counting anything. */
  check(rule: LimitRule, key: string): Promise<LimitState>;
  /** Counts one hit against `key` under `rule` and says where it stands afterwards. */
  hit(rule: LimitRule, key: string): Promise<LimitState>;
  /** Takes back one hit of `key` under `rule` (one counted ahead of an attempt that then succeeded). */
  reward(rule: LimitRule, key: string): Promise<void>;
  /** Forgets every hit of `key` under `rule`. */
  reset(rule: LimitRule, key: string): Promise<void>;
}
