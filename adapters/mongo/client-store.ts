import { MongoClient, MongoServerError, type Collection, type Db, type Document, type Filter } from 'mongodb';
import { InvalidCursorError, StoreConflictError, StoreUnavailableError } from '../../src/errors.js';
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

/*
 * Collections and their indexes (created at start, idempotently):
 *   clients        unique client_id; unique (account_id, name_key); (account_id, created_at, client_id) for listing
 *   accounts       unique id; (created_at, id)
 *   users          unique id; unique (account_id, username_key); (account_id, created_at, id)
 *   secret_values  unique name
 *   audit          unique id; (account_id, at, id)
 * Every write is a single-document operation: a standalone mongod has no multi-document
 * transactions, and nothing here needs one.
 */

/**
 * Every value that reaches a filter passes through here: a string stays a string, anything
 * else (an object such as `{"$gt": ""}` smuggled in through JSON) is refused before it can
 * become a query operator.
 */
function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
  return value;
}

const DUPLICATE_KEY = 11000;

/** Maps a duplicate-key error to the uniqueness rule it broke. */
function conflictField(error: unknown, fields: Record<string, string>): StoreConflictError | undefined {
  if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) return undefined;
  const pattern = Object.keys((error.keyPattern as Document | undefined) ?? {});
  const field = Object.entries(fields).find(([key]) => pattern.includes(key))?.[1];
  return new StoreConflictError(field ?? Object.values(fields).at(-1) ?? 'id');
}

/** Network-level failures mean MongoDB is out of reach right now (503), not a bug. */
function isUnavailable(error: unknown): boolean {
  return (
    error instanceof Error &&
    !(error instanceof MongoServerError) &&
    /Mongo(Network|ServerSelection|Topology|NotConnected|PoolCleared)/.test(error.name)
  );
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The fields a record has in MongoDB beyond the record itself. */
const HIDDEN = { _id: 0, name_key: 0, username_key: 0 } as const;

async function page<T extends Document>(
  collection: Collection,
  filter: Filter<Document>,
  idField: string,
  timeField: string,
  options: ListOptions,
): Promise<Page<T>> {
  const clauses: Filter<Document>[] = [filter];
  if (options.cursor !== undefined) {
    const after = decodeCursor(options.cursor);
    if (!after) throw new InvalidCursorError();
    clauses.push({
      $or: [
        { [timeField]: { $lt: after[0] } },
        { [timeField]: { $eq: after[0] }, [idField]: { $lt: after[1] } },
      ],
    });
  }
  const rows = (await collection
    .find(clauses.length === 1 ? filter : { $and: clauses }, { projection: HIDDEN })
    .sort({ [timeField]: -1, [idField]: -1 })
    .limit(options.limit + 1)
    .toArray()) as unknown as T[];
  const data = rows.slice(0, options.limit);
  const last = data.at(-1) as Record<string, string> | undefined;
  return {
    data,
    next_cursor: rows.length > options.limit && last ? encodeCursor(last[timeField]!, last[idField]!) : null,
  };
}

export interface MongoClientStoreHandle {
  store: ClientStore;
  client: MongoClient;
  db: Db;
}

/** How long an operation waits on a MongoDB that does not answer before it fails. */
const UNANSWERED_MS = 750;

/**
 * Connects to MongoDB at `uri` (the database named in the URI, else `tessera`), creates the
 * collections' indexes and returns the client store.
 */
export async function openMongoClientStore(
  uri: string,
  options: { startTimeoutMs?: number } = {},
): Promise<MongoClientStoreHandle> {
  const client = new MongoClient(uri, {
    // A request that needs a MongoDB that stopped answering fails within a second (503), and
    // service resumes within a second of it answering again (README, "Operations").
    serverSelectionTimeoutMS: UNANSWERED_MS,
    socketTimeoutMS: UNANSWERED_MS,
    connectTimeoutMS: UNANSWERED_MS,
    minHeartbeatFrequencyMS: 250,
    appName: 'tessera',
  });
  // At start a MongoDB that is still starting gets a few seconds.
  const deadline = Date.now() + (options.startTimeoutMs ?? 5000);
  for (;;) {
    try {
      await client.connect();
      break;
    } catch (error) {
      if (Date.now() >= deadline) {
        await client.close();
        throw error;
      }
    }
  }
  const db = client.db();
  try {
    await Promise.all([
      db.collection('clients').createIndexes([
        { key: { client_id: 1 }, name: 'client_id_unique', unique: true },
        { key: { account_id: 1, name_key: 1 }, name: 'account_name_unique', unique: true },
        { key: { account_id: 1, created_at: -1, client_id: -1 }, name: 'account_listing' },
      ]),
      db.collection('accounts').createIndexes([
        { key: { id: 1 }, name: 'id_unique', unique: true },
        { key: { created_at: -1, id: -1 }, name: 'listing' },
      ]),
      db.collection('users').createIndexes([
        { key: { id: 1 }, name: 'id_unique', unique: true },
        { key: { account_id: 1, username_key: 1 }, name: 'account_username_unique', unique: true },
        { key: { account_id: 1, created_at: -1, id: -1 }, name: 'account_listing' },
      ]),
      db.collection('secret_values').createIndexes([{ key: { name: 1 }, name: 'name_unique', unique: true }]),
      db.collection('audit').createIndexes([
        { key: { id: 1 }, name: 'id_unique', unique: true },
        { key: { account_id: 1, at: -1, id: -1 }, name: 'account_listing' },
      ]),
      db.collection('resources').createIndexes([
        { key: { id: 1 }, name: 'id_unique', unique: true },
        { key: { identifier: 1 }, name: 'identifier_unique', unique: true },
        { key: { account_id: 1, created_at: -1, id: -1 }, name: 'account_listing' },
      ]),
      db.collection('usage').createIndexes([
        { key: { client_id: 1, hour: 1 }, name: 'client_hour_unique', unique: true },
        { key: { hour: 1 }, name: 'hour' },
      ]),
    ]);
  } catch (error) {
    await client.close();
    throw error;
  }
  return { store: createMongoClientStore(client, db), client, db };
}

/** The client store on an open database. Closing the store closes `client`. */
export function createMongoClientStore(client: MongoClient, db: Db): ClientStore {
  const clients = db.collection('clients');
  /** The same collection, typed, for array updates on `certificates`. */
  const clientDocs = db.collection<ClientRecord>('clients');
  const accounts = db.collection('accounts');
  const users = db.collection('users');
  const secrets = db.collection('secret_values');
  const audit = db.collection('audit');
  const usage = db.collection('usage');
  const resources = db.collection('resources');

  const insert = async (collection: Collection, doc: Document, fields: Record<string, string>) => {
    try {
      await collection.insertOne({ ...doc });
    } catch (error) {
      throw conflictField(error, fields) ?? error;
    }
  };
  const update = async <T>(
    collection: Collection,
    filter: Filter<Document>,
    set: Document,
    fields: Record<string, string>,
  ) => {
    const defined = Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined));
    if (Object.keys(defined).length === 0) {
      return (await collection.findOne(filter, { projection: HIDDEN })) as T | null;
    }
    try {
      return (await collection.findOneAndUpdate(
        filter,
        { $set: defined },
        { returnDocument: 'after', projection: HIDDEN },
      )) as T | null;
    } catch (error) {
      throw conflictField(error, fields) ?? error;
    }
  };

  const store: ClientStore = {
    async createClient(record) {
      await insert(
        clients,
        { ...record, name_key: nameKey(record.client_name) },
        { client_id: 'client_id', name_key: 'client_name' },
      );
    },
    async getClient(clientId) {
      return (await clients.findOne(
        { client_id: { $eq: text(clientId, 'client_id') } },
        { projection: HIDDEN },
      )) as ClientRecord | null;
    },
    async listClients(accountId, options) {
      const filter: Filter<Document> = { account_id: { $eq: text(accountId, 'account_id') } };
      const q = options.q === undefined ? '' : text(options.q, 'q').trim();
      if (q) filter.name_key = { $regex: escapeRegex(nameKey(q)) };
      if (options.grantType !== undefined)
        filter.grant_types = { $eq: text(options.grantType, 'grant_type') };
      if (options.disabled !== undefined) filter.disabled = { $eq: options.disabled === true };
      return page<ClientRecord>(clients, filter, 'client_id', 'created_at', options);
    },
    async countClients(accountId) {
      return clients.countDocuments({ account_id: { $eq: text(accountId, 'account_id') } });
    },
    async updateClient(clientId, patch) {
      const set: Document = { ...patch };
      if (patch.client_name !== undefined) set.name_key = nameKey(patch.client_name);
      return update<ClientRecord>(clients, { client_id: { $eq: text(clientId, 'client_id') } }, set, {
        name_key: 'client_name',
      });
    },
    async addUsage(clientId, counts, keepFrom) {
      const id = text(clientId, 'client_id');
      if (counts.length > 0) {
        // Plain equality (of checked strings) so an upsert seeds both fields.
        await usage.bulkWrite(
          counts.map((count) => ({
            updateOne: {
              filter: { client_id: id, hour: text(count.hour, 'hour') },
              update: { $inc: { tokens_issued: count.tokens_issued, auth_failures: count.auth_failures } },
              upsert: true,
            },
          })),
          { ordered: false },
        );
      }
      await usage.deleteMany({ hour: { $lt: text(keepFrom, 'hour') } });
    },
    async listUsage(clientId, fromHour) {
      const rows = await usage
        .find(
          { client_id: { $eq: text(clientId, 'client_id') }, hour: { $gte: text(fromHour, 'hour') } },
          { projection: { _id: 0, hour: 1, tokens_issued: 1, auth_failures: 1 } },
        )
        .sort({ hour: 1 })
        .toArray();
      return rows.map((row) => ({
        hour: String(row.hour),
        tokens_issued: Number(row.tokens_issued ?? 0),
        auth_failures: Number(row.auth_failures ?? 0),
      }));
    },
    async touchClient(clientId, at) {
      await clients.updateOne(
        {
          client_id: { $eq: text(clientId, 'client_id') },
          $or: [{ last_used_at: null }, { last_used_at: { $lt: text(at, 'at') } }],
        },
        { $set: { last_used_at: at } },
      );
    },
    async deleteClient(clientId) {
      return (await clients.deleteOne({ client_id: { $eq: text(clientId, 'client_id') } })).deletedCount > 0;
    },
    async addCertificate(clientId, certificate, updatedAt) {
      const entry: CertificateRecord = {
        serial: text(certificate.serial, 'serial'),
        sha256_thumbprint: text(certificate.sha256_thumbprint, 'sha256_thumbprint'),
        not_after: text(certificate.not_after, 'not_after'),
        revoked: certificate.revoked === true,
      };
      return (await clientDocs.findOneAndUpdate(
        { client_id: { $eq: text(clientId, 'client_id') } },
        { $push: { certificates: entry }, $set: { updated_at: text(updatedAt, 'updated_at') } },
        { returnDocument: 'after', projection: HIDDEN },
      )) as ClientRecord | null;
    },
    async revokeCertificate(clientId, serial, updatedAt) {
      return (await clientDocs.findOneAndUpdate(
        {
          client_id: { $eq: text(clientId, 'client_id') },
          certificates: { $elemMatch: { serial: { $eq: text(serial, 'serial') } } },
        },
        { $set: { 'certificates.$[cert].revoked': true, updated_at: text(updatedAt, 'updated_at') } },
        { arrayFilters: [{ 'cert.serial': { $eq: serial } }], returnDocument: 'after', projection: HIDDEN },
      )) as ClientRecord | null;
    },
    async replaceClientSecrets(clientId, version, secrets, updatedAt) {
      if (!Number.isInteger(version)) throw new TypeError('version must be a whole number');
      return (await clients.findOneAndUpdate(
        { client_id: { $eq: text(clientId, 'client_id') }, secret_version: { $eq: version } },
        {
          $set: { secrets, secret_version: version + 1, updated_at: text(updatedAt, 'updated_at') },
          // The fields of the one-secret layout, replaced by the list from now on.
          $unset: { secret_hash: '', previous_secret_hash: '', previous_secret_expires_at: '' },
        },
        { returnDocument: 'after', projection: HIDDEN },
      )) as ClientRecord | null;
    },
    async touchClientSecret(clientId, secretId, at, minIntervalMs) {
      const staleBefore = new Date(Date.parse(text(at, 'at')) - minIntervalMs).toISOString();
      await clients.updateOne(
        {
          client_id: { $eq: text(clientId, 'client_id') },
          secrets: {
            $elemMatch: {
              id: { $eq: text(secretId, 'secret_id') },
              $or: [{ last_used_at: null }, { last_used_at: { $lte: staleBefore } }],
            },
          },
        },
        { $set: { 'secrets.$.last_used_at': at } },
      );
    },
    async removeCertificates(clientId, serials) {
      await clientDocs.updateOne(
        { client_id: { $eq: text(clientId, 'client_id') } },
        { $pull: { certificates: { serial: { $in: serials.map((s) => text(s, 'serial')) } } } },
      );
    },

    async createAccount(account) {
      await insert(accounts, account, { id: 'account_id' });
    },
    async getAccount(accountId) {
      return (await accounts.findOne(
        { id: { $eq: text(accountId, 'id') } },
        { projection: HIDDEN },
      )) as AccountRecord | null;
    },
    async listAccounts(options) {
      return page<AccountRecord>(accounts, {}, 'id', 'created_at', options);
    },
    async updateAccount(accountId, patch) {
      return update<AccountRecord>(accounts, { id: { $eq: text(accountId, 'id') } }, patch, {
        id: 'account_id',
      });
    },

    async createUser(user) {
      await insert(
        users,
        { ...user, username_key: nameKey(user.username) },
        { id: 'user_id', username_key: 'username' },
      );
    },
    async getUser(userId) {
      return (await users.findOne(
        { id: { $eq: text(userId, 'id') } },
        { projection: HIDDEN },
      )) as UserRecord | null;
    },
    async findUserByUsername(accountId, username) {
      return (await users.findOne(
        {
          account_id: { $eq: text(accountId, 'account_id') },
          username_key: { $eq: nameKey(text(username, 'username')) },
        },
        { projection: HIDDEN },
      )) as UserRecord | null;
    },
    async listUsers(accountId, options) {
      return page<UserRecord>(
        users,
        { account_id: { $eq: text(accountId, 'account_id') } },
        'id',
        'created_at',
        options,
      );
    },
    async updateUser(userId, patch) {
      return update<UserRecord>(users, { id: { $eq: text(userId, 'id') } }, patch, {
        username_key: 'username',
      });
    },
    async deleteUser(userId) {
      return (await users.deleteOne({ id: { $eq: text(userId, 'id') } })).deletedCount > 0;
    },

    async createResource(resource) {
      await insert(resources, resource, { id: 'resource_id', identifier: 'identifier' });
    },
    async getResource(resourceId) {
      return (await resources.findOne(
        { id: { $eq: text(resourceId, 'id') } },
        { projection: HIDDEN },
      )) as ResourceRecord | null;
    },
    async findResourceByIdentifier(identifier) {
      return (await resources.findOne(
        { identifier: { $eq: text(identifier, 'identifier') } },
        { projection: HIDDEN },
      )) as ResourceRecord | null;
    },
    async listResources(accountId, options) {
      return page<ResourceRecord>(
        resources,
        { account_id: { $eq: text(accountId, 'account_id') } },
        'id',
        'created_at',
        options,
      );
    },
    async updateResource(resourceId, patch) {
      return update<ResourceRecord>(resources, { id: { $eq: text(resourceId, 'id') } }, patch, {
        identifier: 'identifier',
      });
    },
    async deleteResource(resourceId) {
      return (await resources.deleteOne({ id: { $eq: text(resourceId, 'id') } })).deletedCount > 0;
    },

    async ensureSecretValue<T>(name: string, create: () => T): Promise<T> {
      const filter = { name: { $eq: text(name, 'name') } };
      const existing = await secrets.findOne(filter);
      if (existing) return existing.value as T;
      try {
        await secrets.insertOne({ name, value: create() });
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
      }
      return (await secrets.findOne(filter))!.value as T;
    },

    async replaceSecretValue(name, revision, next) {
      const result = await secrets.updateOne(
        {
          name: { $eq: text(name, 'name') },
          'value.revision': revision === null ? { $exists: false } : { $eq: text(revision, 'revision') },
        },
        { $set: { value: next } },
      );
      return result.modifiedCount === 1;
    },

    async appendAudit(entry) {
      try {
        await audit.insertOne({ ...entry });
      } catch (error) {
        throw conflictField(error, { id: 'audit_id' }) ?? error;
      }
    },
    async listAudit(accountId, options) {
      const filter: Filter<Document> = { account_id: { $eq: text(accountId, 'account_id') } };
      if (options.target !== undefined) filter.target = { $eq: text(options.target, 'target') };
      return page<AuditRecord>(audit, filter, 'id', 'at', options);
    },

    async ping() {
      await db.command({ ping: 1 });
    },
    async close() {
      await client.close();
    },
  };

  // Every method: an unreachable MongoDB becomes StoreUnavailableError (503 upstream).
  for (const [name, method] of Object.entries(store) as [
    keyof ClientStore,
    (...args: unknown[]) => Promise<unknown>,
  ][]) {
    (store as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      try {
        return await method(...args);
      } catch (error) {
        throw isUnavailable(error) ? new StoreUnavailableError('client_store', { cause: error }) : error;
      }
    };
  }
  return store;
}
