/**
 * The cache-marks port: named marks that every process on the same store sees, so that caches
 * kept in one process's memory can tell when what they hold went stale. Implementations live
 * in `adapters/` (SQLite, Redis) and must pass `test/adapters/cache-marks-contract.ts`.
 *
 * A process that caches something remembers the mark it loaded it under and treats the entry
 * as stale once the mark differs. A mark moved on one node is read by the next request on any
 * other: there is no copy of a mark in any process.
 */
export interface CacheMarks {
  /** The current mark of `name` ('' when it was never moved). */
  read(name: string): Promise<string>;
  /** Moves `name` to a new mark no one has seen before (random, so no old mark comes back after a data loss). */
  bump(name: string): Promise<void>;
}
