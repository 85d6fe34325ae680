import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS clients (
  client_id   TEXT PRIMARY KEY,
  account_id  TEXT NOT NULL,
  name_key    TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  doc         TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS clients_account_name ON clients (account_id, name_key);
CREATE INDEX IF NOT EXISTS clients_account_created ON clients (account_id, created_at DESC, client_id DESC);

CREATE TABLE IF NOT EXISTS accounts (
  id          TEXT PRIMARY KEY,
  created_at  TEXT NOT NULL,
  doc         TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS users (
  id           TEXT PRIMARY KEY,
  account_id   TEXT NOT NULL,
  username_key TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  doc          TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS users_account_username ON users (account_id, username_key);
CREATE INDEX IF NOT EXISTS users_account_created ON users (account_id, created_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS secret_values (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS audit (
  id          TEXT PRIMARY KEY,
  account_id  TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  doc         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_account_created ON audit (account_id, created_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS tokens (
  model       TEXT NOT NULL,
  id          TEXT NOT NULL,
  payload     TEXT NOT NULL,
  grant_id    TEXT,
  client_id   TEXT,
  uid         TEXT,
  user_code   TEXT,
  expires_at  INTEGER,
  consumed_at INTEGER,
  PRIMARY KEY (model, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tokens_grant ON tokens (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tokens_client ON tokens (client_id) WHERE client_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tokens_uid ON tokens (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS tokens_user_code ON tokens (model, user_code) WHERE user_code IS NOT NULL;
CREATE TABLE IF NOT EXISTS epochs (
  name  TEXT PRIMARY KEY,
  mark  TEXT NOT NULL
);

-- rate-limiter-flexible's own layout (RateLimiterSQLite), created here with the rest.
CREATE TABLE IF NOT EXISTS limits (
  key    TEXT PRIMARY KEY,
  points INTEGER NOT NULL DEFAULT 0,
  expire INTEGER
);

CREATE TABLE IF NOT EXISTS usage (
  client_id TEXT NOT NULL,
  hour      TEXT NOT NULL,
  tokens    INTEGER NOT NULL DEFAULT 0,
  failures  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (client_id, hour)
);
CREATE INDEX IF NOT EXISTS usage_hour ON usage (hour);

CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS resources (
  id          TEXT PRIMARY KEY,
  account_id  TEXT NOT NULL,
  identifier  TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  doc         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_account_created ON resources (account_id, created_at DESC, id DESC);
`;

/**
 * Opens (creating if needed) the embedded store file `tessera.db` in `dataDir`. WAL mode and a
 * busy timeout let several processes on one machine share the file.
 */
export function openDatabase(dataDir: string): SqliteDatabase {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'tessera.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  // Deleted and replaced content is overwritten, so a replaced plain key leaves no trace in the file.
  db.pragma('secure_delete = ON');
  db.exec(SCHEMA);
  return db;
}
