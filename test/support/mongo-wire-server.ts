/**
 * A MongoDB wire-protocol TEST DOUBLE. Tessera itself never uses it.
 *
 * These machines have no `mongod`, so the MongoDB client store's contract suite runs against
 * this server unless `MONGODB_URI` points at a real MongoDB. It speaks the protocol the official
 * driver uses — OP_MSG (with document sequences) and the legacy OP_QUERY/OP_REPLY of the first
 * handshake — and answers the commands a driver sends for the operations Tessera uses: hello /
 * isMaster, ping, buildInfo, endSessions, listCollections, create, drop, createIndexes,
 * listIndexes, insert, find, getMore, killCursors, count, aggregate, update, delete and
 * findAndModify. Query, update, projection, sort and aggregation semantics come from `mingo`.
 * Unique indexes are enforced (error 11000) and TTL indexes are swept.
 *
 * What it does not try to be: durable, concurrent-safe beyond one event loop, or complete.
 * It presents itself as a standalone server (no replica set, so no transactions).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { BSON, Long, ObjectId, type Document } from 'bson';
import { aggregate as mingoAggregate, find as mingoFind, update as mingoUpdate } from 'mingo';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const BATCH = 101;

interface IndexSpec {
  name: string;
  key: Record<string, 1 | -1>;
  unique?: boolean;
  expireAfterSeconds?: number;
}

interface CollectionData {
  docs: Document[];
  indexes: IndexSpec[];
}

class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
    readonly extra: Document = {},
  ) {
    super(message);
  }
}

const get = (doc: Document, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (value, part) => (value && typeof value === 'object' ? (value as Document)[part] : undefined),
      doc,
    );

/** A structural equality good enough for index keys (strings, numbers, dates, ObjectIds). */
const keyOf = (doc: Document, index: IndexSpec): string =>
  JSON.stringify(Object.keys(index.key).map((field) => BSON.EJSON.serialize({ v: get(doc, field) ?? null })));

export class MongoWireServer {
  private readonly server: Server;
  private readonly collections = new Map<string, CollectionData>();
  private readonly cursors = new Map<string, { ns: string; docs: Document[] }>();
  private readonly sockets = new Set<Socket>();
  private frozen = false;
  private nextCursor = 1n;
  private connectionId = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor() {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on a loopback port and returns a `mongodb://` URI naming `database`. */
  async start(database = 'tessera'): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.sweeper = setInterval(() => this.sweepExpired(), 1000);
    this.sweeper.unref();
    const { port } = this.server.address() as { port: number };
    return `mongodb://127.0.0.1:${port}/${database}?directConnection=true`;
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Stops answering, like a server stopped with SIGSTOP: connections stay open, requests wait. */
  freeze(): void {
    this.frozen = true;
    for (const socket of this.sockets) socket.pause();
  }

  /** Answers again, the requests that waited first. */
  thaw(): void {
    this.frozen = false;
    for (const socket of this.sockets) socket.resume();
  }

  /** The documents of `db.collection`, for tests that look behind the driver. */
  documents(ns: string): Document[] {
    return this.collections.get(ns)?.docs ?? [];
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (this.frozen) socket.pause();
    const id = ++this.connectionId;
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readInt32LE(0);
        if (pending.length < length) break;
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        const reply = this.handle(message, id);
        if (reply) socket.write(reply);
      }
    });
  }

  private handle(message: Buffer, connectionId: number): Buffer | undefined {
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    if (opCode === OP_QUERY) {
      let offset = 20;
      const nsEnd = message.indexOf(0, offset);
      const ns = message.toString('utf8', offset, nsEnd);
      offset = nsEnd + 1 + 8;
      const query = BSON.deserialize(message.subarray(offset, offset + message.readInt32LE(offset)));
      const command = (query.$query as Document | undefined) ?? query;
      return this.opReply(requestId, this.run(command, ns.split('.')[0] ?? 'admin', connectionId));
    }
    if (opCode === OP_MSG) {
      const flags = message.readUInt32LE(16);
      const end = flags & 1 ? message.length - 4 : message.length;
      let offset = 20;
      let body: Document = {};
      while (offset < end) {
        const kind = message.readUInt8(offset);
        offset += 1;
        const size = message.readInt32LE(offset);
        if (kind === 0) {
          body = BSON.deserialize(message.subarray(offset, offset + size));
        } else {
          const identEnd = message.indexOf(0, offset + 4);
          const identifier = message.toString('utf8', offset + 4, identEnd);
          const docs: Document[] = [];
          for (let at = identEnd + 1; at < offset + size;) {
            const docSize = message.readInt32LE(at);
            docs.push(BSON.deserialize(message.subarray(at, at + docSize)));
            at += docSize;
          }
          body[identifier] = docs;
        }
        offset += size;
      }
      const reply = this.run(body, String(body.$db ?? 'admin'), connectionId);
      // moreToCome (bit 1): the client expects no answer.
      return flags & 2 ? undefined : this.opMsg(requestId, reply);
    }
    return this.opMsg(requestId, { ok: 0, errmsg: `unsupported opCode ${opCode}`, code: 2 });
  }

  private header(length: number, responseTo: number, opCode: number): Buffer {
    const header = Buffer.alloc(16);
    header.writeInt32LE(length, 0);
    header.writeInt32LE(0, 4);
    header.writeInt32LE(responseTo, 8);
    header.writeInt32LE(opCode, 12);
    return header;
  }

  private opMsg(responseTo: number, doc: Document): Buffer {
    const body = BSON.serialize(doc);
    const flags = Buffer.alloc(5);
    return Buffer.concat([this.header(16 + 5 + body.length, responseTo, OP_MSG), flags, body]);
  }

  private opReply(responseTo: number, doc: Document): Buffer {
    const body = BSON.serialize(doc);
    const fields = Buffer.alloc(20);
    fields.writeInt32LE(0, 0);
    fields.writeBigInt64LE(0n, 4);
    fields.writeInt32LE(0, 12);
    fields.writeInt32LE(1, 16);
    return Buffer.concat([this.header(16 + 20 + body.length, responseTo, OP_REPLY), fields, body]);
  }

  private run(command: Document, db: string, connectionId: number): Document {
    const name = Object.keys(command)[0] ?? '';
    try {
      return { ...this.dispatch(name, command, db, connectionId), ok: 1 };
    } catch (error) {
      if (error instanceof CommandError) {
        return { ok: 0, errmsg: error.message, code: error.code, codeName: error.codeName, ...error.extra };
      }
      return { ok: 0, errmsg: (error as Error).message, code: 8000, codeName: 'TestDoubleError' };
    }
  }

  private collection(ns: string, create = true): CollectionData {
    let data = this.collections.get(ns);
    if (!data && create) {
      data = { docs: [], indexes: [{ name: '_id_', key: { _id: 1 }, unique: true }] };
      this.collections.set(ns, data);
    }
    return data ?? { docs: [], indexes: [] };
  }

  private dispatch(name: string, cmd: Document, db: string, connectionId: number): Document {
    const ns = `${db}.${String(cmd[name])}`;
    switch (name.toLowerCase()) {
      case 'hello':
      case 'ismaster':
        return {
          ismaster: true,
          isWritablePrimary: true,
          helloOk: true,
          maxBsonObjectSize: 16 * 1024 * 1024,
          maxMessageSizeBytes: 48_000_000,
          maxWriteBatchSize: 100_000,
          localTime: new Date(),
          logicalSessionTimeoutMinutes: 30,
          connectionId,
          minWireVersion: 0,
          maxWireVersion: 21,
          readOnly: false,
        };
      case 'ping':
      case 'endsessions':
      case 'killcursors':
        if (name === 'killCursors')
          for (const id of (cmd.cursors as Long[]) ?? []) this.cursors.delete(String(id));
        return name === 'killCursors' ? { cursorsKilled: cmd.cursors ?? [] } : {};
      case 'buildinfo':
        return { version: '7.0.0', versionArray: [7, 0, 0, 0], maxBsonObjectSize: 16 * 1024 * 1024 };
      case 'listcollections': {
        const names = [...this.collections.keys()]
          .filter((key) => key.startsWith(`${db}.`))
          .map((key) => key.slice(db.length + 1));
        const docs = names.map((n) => ({
          name: n,
          type: 'collection',
          options: {},
          info: { readOnly: false },
        }));
        return this.cursorReply(
          `${db}.$cmd.listCollections`,
          mingoFind(docs, (cmd.filter as Document) ?? {}).all() as Document[],
          cmd,
        );
      }
      case 'create':
        if (this.collections.has(ns))
          throw new CommandError(48, 'NamespaceExists', `Collection ${ns} already exists.`);
        this.collection(ns);
        return {};
      case 'drop':
        if (!this.collections.delete(ns)) throw new CommandError(26, 'NamespaceNotFound', 'ns not found');
        return {};
      case 'createindexes': {
        const data = this.collection(ns);
        const before = data.indexes.length;
        for (const spec of cmd.indexes as IndexSpec[]) {
          const existing = data.indexes.find((i) => i.name === spec.name);
          if (existing) continue;
          const index: IndexSpec = { name: spec.name, key: spec.key, unique: !!spec.unique };
          if (spec.expireAfterSeconds !== undefined) index.expireAfterSeconds = spec.expireAfterSeconds;
          if (index.unique) {
            const seen = new Set<string>();
            for (const doc of data.docs) {
              const key = keyOf(doc, index);
              if (seen.has(key))
                throw new CommandError(
                  11000,
                  'DuplicateKey',
                  `E11000 duplicate key error index: ${index.name}`,
                );
              seen.add(key);
            }
          }
          data.indexes.push(index);
        }
        return {
          numIndexesBefore: before,
          numIndexesAfter: data.indexes.length,
          createdCollectionAutomatically: before === 0,
        };
      }
      case 'listindexes': {
        const data = this.collections.get(ns);
        if (!data) throw new CommandError(26, 'NamespaceNotFound', `ns does not exist: ${ns}`);
        return this.cursorReply(
          ns,
          data.indexes.map((i) => ({ v: 2, ...i })),
          cmd,
        );
      }
      case 'insert': {
        const data = this.collection(ns);
        const writeErrors: Document[] = [];
        let n = 0;
        (cmd.documents as Document[]).forEach((doc, index) => {
          const stored = { _id: new ObjectId(), ...doc };
          const conflict = this.uniqueConflict(data, stored);
          if (conflict) {
            writeErrors.push({ index, ...conflict });
            return;
          }
          data.docs.push(stored);
          n += 1;
        });
        return writeErrors.length ? { n, writeErrors } : { n };
      }
      case 'find': {
        const data = this.collection(ns, false);
        let cursor = mingoFind(
          data.docs,
          (cmd.filter as Document) ?? {},
          cmd.projection as Document | undefined,
        );
        if (cmd.sort) cursor = cursor.sort(cmd.sort as Record<string, 1 | -1>);
        if (cmd.skip) cursor = cursor.skip(Number(cmd.skip));
        if (cmd.limit) cursor = cursor.limit(Math.abs(Number(cmd.limit)));
        return this.cursorReply(ns, structuredClone(cursor.all() as Document[]), cmd);
      }
      case 'getmore': {
        const id = String(cmd.getMore);
        const open = this.cursors.get(id);
        if (!open) throw new CommandError(43, 'CursorNotFound', `cursor id ${id} not found`);
        const size = Number(cmd.batchSize ?? BATCH) || BATCH;
        const batch = open.docs.splice(0, size);
        if (open.docs.length === 0) this.cursors.delete(id);
        return {
          cursor: { id: open.docs.length ? Long.fromString(id) : Long.ZERO, ns: open.ns, nextBatch: batch },
        };
      }
      case 'count': {
        const data = this.collection(ns, false);
        return { n: mingoFind(data.docs, (cmd.query as Document) ?? {}).all().length };
      }
      case 'aggregate': {
        const data = this.collection(ns, false);
        const result = mingoAggregate(data.docs, cmd.pipeline as Document[]) as Document[];
        return this.cursorReply(ns, structuredClone(result), cmd);
      }
      case 'update': {
        const data = this.collection(ns);
        let n = 0;
        let nModified = 0;
        const upserted: Document[] = [];
        const writeErrors: Document[] = [];
        (cmd.updates as Document[]).forEach((spec, index) => {
          try {
            const result = this.applyUpdate(data, spec.q as Document, spec.u as Document, {
              multi: !!spec.multi,
              upsert: !!spec.upsert,
              arrayFilters: spec.arrayFilters as Document[] | undefined,
            });
            n += result.matched;
            nModified += result.modified;
            if (result.upsertedId !== undefined) {
              n += 1;
              upserted.push({ index, _id: result.upsertedId });
            }
          } catch (error) {
            if (error instanceof CommandError)
              writeErrors.push({ index, code: error.code, errmsg: error.message, ...error.extra });
            else throw error;
          }
        });
        return {
          n,
          nModified,
          ...(upserted.length ? { upserted } : {}),
          ...(writeErrors.length ? { writeErrors } : {}),
        };
      }
      case 'delete': {
        const data = this.collection(ns, false);
        let n = 0;
        for (const spec of cmd.deletes as Document[]) {
          const matches = mingoFind(data.docs, spec.q as Document).all() as Document[];
          const doomed = new Set(Number(spec.limit) === 1 ? matches.slice(0, 1) : matches);
          data.docs = data.docs.filter((doc) => !doomed.has(doc));
          n += doomed.size;
        }
        return { n };
      }
      case 'findandmodify':
        return this.findAndModify(ns, cmd);
      default:
        throw new CommandError(59, 'CommandNotFound', `no such command: '${name}'`);
    }
  }

  private cursorReply(ns: string, docs: Document[], cmd: Document): Document {
    const size = Number((cmd.cursor as Document | undefined)?.batchSize ?? cmd.batchSize ?? BATCH) || BATCH;
    const firstBatch = docs.slice(0, size);
    const rest = docs.slice(size);
    if (rest.length === 0 || cmd.singleBatch) return { cursor: { id: Long.ZERO, ns, firstBatch } };
    const id = this.nextCursor++;
    this.cursors.set(String(id), { ns, docs: rest });
    return { cursor: { id: Long.fromBigInt(id), ns, firstBatch } };
  }

  /** The duplicate-key write error `doc` would cause, if any (ignoring `self`). */
  private uniqueConflict(data: CollectionData, doc: Document, self?: Document): Document | undefined {
    for (const index of data.indexes) {
      if (!index.unique) continue;
      const key = keyOf(doc, index);
      if (data.docs.some((other) => other !== self && keyOf(other, index) === key)) {
        const keyValue = Object.fromEntries(
          Object.keys(index.key).map((field) => [field, get(doc, field) ?? null]),
        );
        return {
          code: 11000,
          errmsg: `E11000 duplicate key error collection: ${index.name} dup key: ${JSON.stringify(keyValue)}`,
          keyPattern: index.key,
          keyValue,
        };
      }
    }
    return undefined;
  }

  /** Applies an update to a copy first, so a unique-index violation changes nothing. */
  private applyUpdate(
    data: CollectionData,
    query: Document,
    update: Document,
    options: {
      multi: boolean;
      upsert: boolean;
      arrayFilters?: Document[] | undefined;
      sort?: Document | undefined;
    },
  ): { matched: number; modified: number; upsertedId?: unknown; before?: Document; after?: Document } {
    let cursor = mingoFind(data.docs, query);
    if (options.sort) cursor = cursor.sort(options.sort as Record<string, 1 | -1>);
    const matches = cursor.all() as Document[];
    const targets = options.multi ? matches : matches.slice(0, 1);
    const isReplacement = !Object.keys(update).some((key) => key.startsWith('$'));
    if (targets.length === 0) {
      if (!options.upsert) return { matched: 0, modified: 0 };
      const seed: Document = Object.fromEntries(
        Object.entries(query).filter(
          ([k, v]) => !k.startsWith('$') && (typeof v !== 'object' || v === null || v instanceof ObjectId),
        ),
      );
      const created: Document = isReplacement ? { ...update } : seed;
      if (!isReplacement) {
        const { $setOnInsert, ...rest } = update;
        mingoUpdate(
          created,
          {
            ...rest,
            ...($setOnInsert ? { $set: { ...(rest.$set as Document), ...($setOnInsert as Document) } } : {}),
          },
          options.arrayFilters,
        );
      }
      created._id ??= new ObjectId();
      const conflict = this.uniqueConflict(data, created);
      if (conflict) throw new CommandError(11000, 'DuplicateKey', String(conflict.errmsg), conflict);
      data.docs.push(created);
      return { matched: 0, modified: 0, upsertedId: created._id, after: created };
    }
    let modified = 0;
    let before: Document | undefined;
    let after: Document | undefined;
    for (const target of targets) {
      const next: Document = isReplacement ? { _id: target._id, ...update } : structuredClone(target);
      if (!isReplacement) {
        const { $setOnInsert: _ignored, ...rest } = update;
        // The query goes along so that a positional `$` names the array element it matched.
        mingoUpdate(next, rest, options.arrayFilters, query);
      }
      const conflict = this.uniqueConflict(data, next, target);
      if (conflict) throw new CommandError(11000, 'DuplicateKey', String(conflict.errmsg), conflict);
      before ??= structuredClone(target);
      if (JSON.stringify(BSON.EJSON.serialize(next)) !== JSON.stringify(BSON.EJSON.serialize(target)))
        modified += 1;
      data.docs[data.docs.indexOf(target)] = next;
      after ??= next;
    }
    return { matched: targets.length, modified, before, after };
  }

  private findAndModify(ns: string, cmd: Document): Document {
    const data = this.collection(ns);
    const query = (cmd.query as Document) ?? {};
    const project = (doc: Document | undefined) => {
      const fields = (cmd.fields ?? cmd.projection) as Document | undefined;
      if (!doc) return null;
      return fields
        ? ((mingoFind([structuredClone(doc)], {}, fields).all()[0] as Document) ?? null)
        : structuredClone(doc);
    };
    if (cmd.remove) {
      let cursor = mingoFind(data.docs, query);
      if (cmd.sort) cursor = cursor.sort(cmd.sort as Record<string, 1 | -1>);
      const target = cursor.all()[0] as Document | undefined;
      if (target) data.docs = data.docs.filter((doc) => doc !== target);
      return { lastErrorObject: { n: target ? 1 : 0 }, value: project(target) };
    }
    const result = this.applyUpdate(data, query, cmd.update as Document, {
      multi: false,
      upsert: !!cmd.upsert,
      arrayFilters: cmd.arrayFilters as Document[] | undefined,
      sort: cmd.sort as Document | undefined,
    });
    const lastErrorObject: Document = {
      n: result.matched || (result.upsertedId !== undefined ? 1 : 0),
      updatedExisting: result.matched > 0,
    };
    if (result.upsertedId !== undefined) lastErrorObject.upserted = result.upsertedId;
    return { lastErrorObject, value: project(cmd.new ? result.after : result.before) };
  }

  private sweepExpired(): void {
    const now = Date.now();
    for (const data of this.collections.values()) {
      for (const index of data.indexes) {
        if (index.expireAfterSeconds === undefined) continue;
        const field = Object.keys(index.key)[0]!;
        data.docs = data.docs.filter((doc) => {
          const value = get(doc, field);
          return !(value instanceof Date && value.getTime() + index.expireAfterSeconds! * 1000 <= now);
        });
      }
    }
  }
}
