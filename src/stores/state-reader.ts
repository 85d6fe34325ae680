/**
 * The state-reader port: everything one protocol request needs from the token store's backend
 * before oidc-provider decides, read in one round trip. It spans three kinds of keys that live
 * there: cache marks ({@link CacheMarks}), failure counters ({@link Limiter}) and token records
 * ({@link TokenStore}). Implementations live in `adapters/` (SQLite, Redis) and must pass
 * `test/adapters/state-reader-contract.ts`: each answer equals what the three ports would answer
 * one by one at that moment.
 */
import type { LimitRule } from './limiter.js';
import type { TokenPayload } from './token-store.js';

export interface StateQuery {
  /** Cache marks, by name. */
  marks: readonly string[];
  /** Failure counters: the hits counted in the current window. */
  counters: readonly { rule: LimitRule; key: string }[];
  /** Token-store records, as the model's adapter would find them. */
  records: readonly { model: string; id: string }[];
}

/** The answers, in the order of the query's lists. */
export interface StateSnapshot {
  /** '' for a mark never moved. */
  marks: string[];
  /** 0 where nothing is counted. */
  hits: number[];
  records: (TokenPayload | undefined)[];
}

export interface StateReader {
  read(query: StateQuery): Promise<StateSnapshot>;
}
