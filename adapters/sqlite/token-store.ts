import type { ModelAdapter, TokenPayload, TokenStore } from '../../src/stores/token-store.js';
import type { SqliteDatabase } from './database.js';

interface Row {
  payload: string;
  consumed_at: number | null;
}

export interface SqliteTokenStoreOptions {
  /** How often expired rows are deleted, in milliseconds. */
  sweepIntervalMs?: number;
  now?: () => number;
}

/**
 * The embedded token store. Every model shares one table keyed by (model, id); the fields that
 * oidc-provider looks records up by (grant, client, uid, user code) are indexed columns.
 */
export function createSqliteTokenStore(
  db: SqliteDatabase,
  options: SqliteTokenStoreOptions = {},
): TokenStore {
  const now = options.now ?? Date.now;
  const upsert = db.prepare(
    `INSERT INTO tokens (model, id, payload, grant_id, client_id, uid, user_code, expires_at, consumed_at)
     VALUES (@model, @id, @payload, @grantId, @clientId, @uid, @userCode, @expiresAt, NULL)
     ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
       client_id = excluded.client_id, uid = excluded.uid, user_code = excluded.user_code,
       expires_at = excluded.expires_at, consumed_at = NULL`,
  );
  const live = '(expires_at IS NULL OR expires_at > ?)';
  const findById = db.prepare(
    `SELECT payload, consumed_at FROM tokens WHERE model = ? AND id = ? AND ${live}`,
  );
  const findByUid = db.prepare(
    `SELECT payload, consumed_at FROM tokens WHERE model = ? AND uid = ? AND ${live} LIMIT 1`,
  );
  const findByUserCode = db.prepare(
    `SELECT payload, consumed_at FROM tokens WHERE model = ? AND user_code = ? AND ${live} LIMIT 1`,
  );
  const consume = db.prepare(
    'UPDATE tokens SET consumed_at = ? WHERE model = ? AND id = ? AND consumed_at IS NULL',
  );
  const destroy = db.prepare('DELETE FROM tokens WHERE model = ? AND id = ?');
  const revokeGrant = db.prepare('DELETE FROM tokens WHERE grant_id = ?');
  const revokeClient = db.prepare('DELETE FROM tokens WHERE client_id = ?');
  const sweep = db.prepare('DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?');

  const toPayload = (row: unknown): TokenPayload | undefined => {
    if (!row) return undefined;
    const { payload, consumed_at: consumedAt } = row as Row;
    const parsed = JSON.parse(payload) as TokenPayload;
    // oidc-provider reads `consumed` as the epoch second it happened.
    if (consumedAt !== null) parsed.consumed = Math.floor(consumedAt / 1000);
    return parsed;
  };

  const timer = setInterval(() => {
    if (!db.open) return;
    sweep.run(now());
  }, options.sweepIntervalMs ?? 60_000);
  timer.unref();

  const adapters = new Map<string, ModelAdapter>();

  return {
    adapter(model) {
      let adapter = adapters.get(model);
      if (adapter) return adapter;
      adapter = {
        async upsert(id, payload, expiresIn) {
          upsert.run({
            model,
            id,
            payload: JSON.stringify(payload),
            grantId: typeof payload.grantId === 'string' ? payload.grantId : null,
            clientId: typeof payload.clientId === 'string' ? payload.clientId : null,
            uid: typeof payload.uid === 'string' ? payload.uid : null,
            userCode: typeof payload.userCode === 'string' ? payload.userCode : null,
            expiresAt: expiresIn ? now() + expiresIn * 1000 : null,
          });
        },
        async find(id) {
          return toPayload(findById.get(model, id, now()));
        },
        async findByUid(uid) {
          return toPayload(findByUid.get(model, uid, now()));
        },
        async findByUserCode(userCode) {
          return toPayload(findByUserCode.get(model, userCode, now()));
        },
        async consume(id) {
          consume.run(now(), model, id);
        },
        async destroy(id) {
          destroy.run(model, id);
        },
        async revokeByGrantId(grantId) {
          revokeGrant.run(grantId);
        },
      };
      adapters.set(model, adapter);
      return adapter;
    },
    async revokeByClientId(clientId) {
      revokeClient.run(clientId);
    },
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      clearInterval(timer);
      if (db.open) db.close();
    },
  };
}
