import { randomUUID } from 'node:crypto';
import type { CacheMarks } from '../../src/stores/cache-marks.js';
import type { SqliteDatabase } from './database.js';

/** Cache marks in the embedded file: every process sharing the file reads the same row. */
export function createSqliteCacheMarks(db: SqliteDatabase): CacheMarks {
  const readMark = db.prepare('SELECT mark FROM epochs WHERE name = ?').pluck();
  const writeMark = db.prepare(
    'INSERT INTO epochs (name, mark) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET mark = excluded.mark',
  );
  return {
    async read(name) {
      return (readMark.get(name) as string | undefined) ?? '';
    },
    async bump(name) {
      writeMark.run(name, randomUUID());
    },
  };
}
