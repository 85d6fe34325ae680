import { InvalidCursorError, StoreConflictError } from '../../src/errors.js';
import type {
  AccountRecord,
  AuditRecord,
  CertificateRecord,
  ClientRecord,
  ClientStore,
  ListOptions,
  Page,
  ResourceRecord,
  UserRecord,
} from '../../src/stores/client-store.js';
import { decodeCursor, encodeCursor, nameKey } from '../common.js';
import type { SqliteDatabase } from './database.js';

function isUniqueViolation(error: unknown): error is Error & { message: string } {
  return (
    error instanceof Error &&
    (error as { code?: string }).code !== undefined &&
    String((error as { code?: string }).code).startsWith('SQLITE_CONSTRAINT')
  );
}

/** Runs an insert and maps a uniqueness failure to `StoreConflictError` naming the rule. */
function insertOrConflict(run: () => void, fields: Record<string, string>): void {
  try {
    run();
  } catch (error) {
    if (isUniqueViolation(error)) {
      const field = Object.entries(fields).find(([needle]) => error.message.includes(needle))?.[1];
      throw new StoreConflictError(field ?? Object.values(fields)[0] ?? 'id');
    }
    throw error;
  }
}

/**
 * One newest-first page from `table`, whose rows have `created_at`, an id column and `doc`.
 * `where` narrows the rows; the cursor continues strictly after the previous page's last row.
 */
function page<T>(
  db: SqliteDatabase,
  table: string,
  idColumn: string,
  where: string,
  params: unknown[],
  options: ListOptions,
  keyOf: (doc: T) => [string, string],
): Page<T> {
  const clauses = [where];
  const args = [...params];
  if (options.cursor !== undefined) {
    const after = decodeCursor(options.cursor);
    if (!after) throw new InvalidCursorError();
    clauses.push(`(created_at < ? OR (created_at = ? AND ${idColumn} < ?))`);
    args.push(after[0], after[0], after[1]);
  }
  const rows = db
    .prepare(
      `SELECT doc FROM ${table} WHERE ${clauses.join(' AND ')} ORDER BY created_at DESC, ${idColumn} DESC LIMIT ?`,
    )
    .all(...args, options.limit + 1) as { doc: string }[];
  const data = rows.slice(0, options.limit).map((row) => JSON.parse(row.doc) as T);
  const last = data.at(-1);
  return {
    data,
    next_cursor: rows.length > options.limit && last ? encodeCursor(...keyOf(last)) : null,
  };
}

function docOrNull<T>(row: unknown): T | null {
  return row ? (JSON.parse((row as { doc: string }).doc) as T) : null;
}

/** The embedded client store: documents as JSON beside the columns that are indexed. */
export function createSqliteClientStore(db: SqliteDatabase): ClientStore {
  const addUsageRow = db.prepare(
    `INSERT INTO usage (client_id, hour, tokens, failures) VALUES (?, ?, ?, ?)
     ON CONFLICT (client_id, hour) DO UPDATE SET tokens = tokens + excluded.tokens, failures = failures + excluded.failures`,
  );
  const pruneUsage = db.prepare('DELETE FROM usage WHERE hour < ?');
  const listUsageRows = db.prepare(
    'SELECT hour, tokens, failures FROM usage WHERE client_id = ? AND hour >= ? ORDER BY hour',
  );
  const getClientRow = db.prepare('SELECT doc FROM clients WHERE client_id = ?');
  const insertClient = db.prepare(
    'INSERT INTO clients (client_id, account_id, name_key, created_at, doc) VALUES (?, ?, ?, ?, ?)',
  );
  const writeClient = db.prepare('UPDATE clients SET name_key = ?, doc = ? WHERE client_id = ?');
  const getAccountRow = db.prepare('SELECT doc FROM accounts WHERE id = ?');
  const getUserRow = db.prepare('SELECT doc FROM users WHERE id = ?');
  const getResourceRow = db.prepare('SELECT doc FROM resources WHERE id = ?');
  // Read on every token request that names a resource.
  const getResourceByIdentifier = db.prepare('SELECT doc FROM resources WHERE identifier = ?');

  const updateDoc = <T extends object>(
    read: () => T | null,
    write: (next: T) => void,
    patch: Partial<T>,
    conflictField: string,
  ): T | null =>
    db
      .transaction(() => {
        const current = read();
        if (!current) return null;
        const next = { ...current, ...stripUndefined(patch) };
        insertOrConflict(() => write(next), { name_key: conflictField, username_key: conflictField });
        return next;
      })
      .immediate();

  /** Rewrites a client's certificate list in one transaction; `change` returns null to give up. */
  const changeCertificates = (
    clientId: string,
    change: (list: CertificateRecord[]) => CertificateRecord[] | null,
    updatedAt?: string,
  ): ClientRecord | null =>
    db
      .transaction(() => {
        const current = docOrNull<ClientRecord>(getClientRow.get(clientId));
        const certificates = current && change(current.certificates);
        if (!current || !certificates) return null;
        const next = { ...current, certificates, ...(updatedAt ? { updated_at: updatedAt } : {}) };
        writeClient.run(nameKey(next.client_name), JSON.stringify(next), clientId);
        return next;
      })
      .immediate();

  return {
    async createClient(client) {
      insertOrConflict(
        () =>
          insertClient.run(
            client.client_id,
            client.account_id,
            nameKey(client.client_name),
            client.created_at,
            JSON.stringify(client),
          ),
        { 'clients.client_id': 'client_id', 'clients.account_id, clients.name_key': 'client_name' },
      );
    },
    async getClient(clientId) {
      return docOrNull<ClientRecord>(getClientRow.get(clientId));
    },
    async listClients(accountId, options) {
      const clauses = ['account_id = ?'];
      const params: unknown[] = [accountId];
      const q = options.q?.trim();
      if (q) {
        clauses.push('instr(name_key, ?) > 0');
        params.push(nameKey(q));
      }
      if (options.grantType !== undefined) {
        clauses.push("EXISTS (SELECT 1 FROM json_each(doc, '$.grant_types') WHERE value = ?)");
        params.push(options.grantType);
      }
      if (options.disabled !== undefined) {
        clauses.push("json_extract(doc, '$.disabled') = ?");
        params.push(options.disabled ? 1 : 0);
      }
      return page<ClientRecord>(db, 'clients', 'client_id', clauses.join(' AND '), params, options, (c) => [
        c.created_at,
        c.client_id,
      ]);
    },
    async countClients(accountId) {
      return (
        db.prepare('SELECT count(*) AS n FROM clients WHERE account_id = ?').get(accountId) as { n: number }
      ).n;
    },
    async updateClient(clientId, patch) {
      return updateDoc<ClientRecord>(
        () => docOrNull<ClientRecord>(getClientRow.get(clientId)),
        (next) => writeClient.run(nameKey(next.client_name), JSON.stringify(next), clientId),
        patch,
        'client_name',
      );
    },
    async touchClient(clientId, at) {
      db.prepare(
        `UPDATE clients SET doc = json_set(doc, '$.last_used_at', ?)
         WHERE client_id = ? AND (json_extract(doc, '$.last_used_at') IS NULL OR json_extract(doc, '$.last_used_at') < ?)`,
      ).run(at, clientId, at);
    },
    async replaceClientSecrets(clientId, version, secrets, updatedAt) {
      return db
        .transaction(() => {
          const current = docOrNull<ClientRecord & Record<string, unknown>>(getClientRow.get(clientId));
          if (!current || current.secret_version !== version) return null;
          // The fields of the one-secret layout, replaced by the list from now on.
          const {
            secret_hash: _s,
            previous_secret_hash: _p,
            previous_secret_expires_at: _e,
            ...rest
          } = current;
          const next = { ...rest, secrets, secret_version: version + 1, updated_at: updatedAt };
          writeClient.run(nameKey(next.client_name), JSON.stringify(next), clientId);
          return next;
        })
        .immediate();
    },
    async touchClientSecret(clientId, secretId, at, minIntervalMs) {
      const staleBefore = new Date(Date.parse(at) - minIntervalMs).toISOString();
      db.transaction(() => {
        const current = docOrNull<ClientRecord>(getClientRow.get(clientId));
        const secret = current?.secrets?.find((entry) => entry.id === secretId);
        if (!current || !secret || (secret.last_used_at !== null && secret.last_used_at > staleBefore))
          return;
        secret.last_used_at = at;
        writeClient.run(nameKey(current.client_name), JSON.stringify(current), clientId);
      }).immediate();
    },
    async deleteClient(clientId) {
      return db.prepare('DELETE FROM clients WHERE client_id = ?').run(clientId).changes > 0;
    },
    async addUsage(clientId, counts, keepFrom) {
      db.transaction(() => {
        for (const count of counts) {
          addUsageRow.run(clientId, count.hour, count.tokens_issued, count.auth_failures);
        }
        pruneUsage.run(keepFrom);
      })();
    },
    async listUsage(clientId, fromHour) {
      return (
        listUsageRows.all(clientId, fromHour) as { hour: string; tokens: number; failures: number }[]
      ).map((row) => ({ hour: row.hour, tokens_issued: row.tokens, auth_failures: row.failures }));
    },
    async addCertificate(clientId, certificate, updatedAt) {
      return changeCertificates(clientId, (list) => [...list, { ...certificate }], updatedAt);
    },
    async revokeCertificate(clientId, serial, updatedAt) {
      return changeCertificates(
        clientId,
        (list) =>
          list.some((cert) => cert.serial === serial)
            ? list.map((cert) => (cert.serial === serial ? { ...cert, revoked: true } : cert))
            : null,
        updatedAt,
      );
    },
    async removeCertificates(clientId, serials) {
      const doomed = new Set(serials);
      changeCertificates(clientId, (list) => list.filter((cert) => !doomed.has(cert.serial)));
    },

    async createAccount(account) {
      insertOrConflict(
        () =>
          db
            .prepare('INSERT INTO accounts (id, created_at, doc) VALUES (?, ?, ?)')
            .run(account.id, account.created_at, JSON.stringify(account)),
        { 'accounts.id': 'account_id' },
      );
    },
    async getAccount(accountId) {
      return docOrNull<AccountRecord>(getAccountRow.get(accountId));
    },
    async listAccounts(options) {
      return page<AccountRecord>(db, 'accounts', 'id', '1 = 1', [], options, (a) => [a.created_at, a.id]);
    },
    async updateAccount(accountId, patch) {
      return updateDoc<AccountRecord>(
        () => docOrNull<AccountRecord>(getAccountRow.get(accountId)),
        (next) => db.prepare('UPDATE accounts SET doc = ? WHERE id = ?').run(JSON.stringify(next), accountId),
        patch,
        'account_id',
      );
    },

    async createUser(user) {
      insertOrConflict(
        () =>
          db
            .prepare(
              'INSERT INTO users (id, account_id, username_key, created_at, doc) VALUES (?, ?, ?, ?, ?)',
            )
            .run(user.id, user.account_id, nameKey(user.username), user.created_at, JSON.stringify(user)),
        { 'users.id': 'user_id', 'users.account_id, users.username_key': 'username' },
      );
    },
    async getUser(userId) {
      return docOrNull<UserRecord>(getUserRow.get(userId));
    },
    async findUserByUsername(accountId, username) {
      return docOrNull<UserRecord>(
        db
          .prepare('SELECT doc FROM users WHERE account_id = ? AND username_key = ?')
          .get(accountId, nameKey(username)),
      );
    },
    async listUsers(accountId, options) {
      return page<UserRecord>(db, 'users', 'id', 'account_id = ?', [accountId], options, (u) => [
        u.created_at,
        u.id,
      ]);
    },
    async updateUser(userId, patch) {
      return updateDoc<UserRecord>(
        () => docOrNull<UserRecord>(getUserRow.get(userId)),
        (next) => db.prepare('UPDATE users SET doc = ? WHERE id = ?').run(JSON.stringify(next), userId),
        patch,
        'username',
      );
    },
    async deleteUser(userId) {
      return db.prepare('DELETE FROM users WHERE id = ?').run(userId).changes > 0;
    },

    async createResource(resource) {
      insertOrConflict(
        () =>
          db
            .prepare(
              'INSERT INTO resources (id, account_id, identifier, created_at, doc) VALUES (?, ?, ?, ?, ?)',
            )
            .run(
              resource.id,
              resource.account_id,
              resource.identifier,
              resource.created_at,
              JSON.stringify(resource),
            ),
        { 'resources.identifier': 'identifier', 'resources.id': 'resource_id' },
      );
    },
    async getResource(resourceId) {
      return docOrNull<ResourceRecord>(getResourceRow.get(resourceId));
    },
    async findResourceByIdentifier(identifier) {
      return docOrNull<ResourceRecord>(getResourceByIdentifier.get(identifier));
    },
    async listResources(accountId, options) {
      return page<ResourceRecord>(db, 'resources', 'id', 'account_id = ?', [accountId], options, (r) => [
        r.created_at,
        r.id,
      ]);
    },
    async updateResource(resourceId, patch) {
      return updateDoc<ResourceRecord>(
        () => docOrNull<ResourceRecord>(getResourceRow.get(resourceId)),
        (next) =>
          db
            .prepare('UPDATE resources SET identifier = ?, doc = ? WHERE id = ?')
            .run(next.identifier, JSON.stringify(next), resourceId),
        patch,
        'identifier',
      );
    },
    async deleteResource(resourceId) {
      return db.prepare('DELETE FROM resources WHERE id = ?').run(resourceId).changes > 0;
    },

    async ensureSecretValue<T>(name: string, create: () => T): Promise<T> {
      const existing = db.prepare('SELECT value FROM secret_values WHERE name = ?').get(name) as
        { value: string } | undefined;
      if (existing) return JSON.parse(existing.value) as T;
      db.prepare('INSERT OR IGNORE INTO secret_values (name, value) VALUES (?, ?)').run(
        name,
        JSON.stringify(create()),
      );
      const stored = db.prepare('SELECT value FROM secret_values WHERE name = ?').get(name) as {
        value: string;
      };
      return JSON.parse(stored.value) as T;
    },

    async replaceSecretValue(name, revision, next) {
      const replaced =
        db
          .prepare(
            "UPDATE secret_values SET value = ? WHERE name = ? AND json_extract(value, '$.revision') IS ?",
          )
          .run(JSON.stringify(next), name, revision).changes === 1;
      // Key material changes rarely: the replaced value leaves the file and its log at once.
      if (replaced) db.pragma('wal_checkpoint(TRUNCATE)');
      return replaced;
    },

    async appendAudit(entry) {
      insertOrConflict(
        () =>
          db
            .prepare('INSERT INTO audit (id, account_id, created_at, doc) VALUES (?, ?, ?, ?)')
            .run(entry.id, entry.account_id, entry.at, JSON.stringify(entry)),
        { 'audit.id': 'audit_id' },
      );
    },
    async listAudit(accountId, options) {
      const [where, params] =
        options.target === undefined
          ? ['account_id = ?', [accountId]]
          : ["account_id = ? AND json_extract(doc, '$.target') = ?", [accountId, options.target]];
      return page<AuditRecord>(db, 'audit', 'id', where, params, options, (e) => [e.at, e.id]);
    },

    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      // The file is shared with the embedded token store; the first close ends both.
      if (db.open) db.close();
    },
  };
}

function stripUndefined<T extends object>(patch: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
