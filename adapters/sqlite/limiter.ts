import { RateLimiterSQLite } from 'rate-limiter-flexible';
import type { Limiter } from '../../src/stores/limiter.js';
import { rateLimiterPort } from '../rate-limits.js';
import type { SqliteDatabase } from './database.js';

/** Limits in the embedded file: processes sharing the file count into the same rows. */
export function createSqliteLimiter(db: SqliteDatabase, options: { sweepIntervalMs?: number } = {}): Limiter {
  const sweep = db.prepare('DELETE FROM limits WHERE expire < ?');
  const timer = setInterval(() => {
    if (db.open) sweep.run(Date.now());
  }, options.sweepIntervalMs ?? 60_000);
  timer.unref();
  return rateLimiterPort(
    'token_store',
    (rule) =>
      new RateLimiterSQLite({
        storeClient: db,
        storeType: 'better-sqlite3',
        // The table is part of the schema (database.ts), so it exists before the first call.
        tableName: 'limits',
        tableCreated: true,
        keyPrefix: rule.name,
        points: rule.points,
        duration: rule.windowSeconds,
      }),
  );
}
