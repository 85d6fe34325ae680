import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BSON } from 'bson';
import { MongoClient, MongoServerError, type Db } from 'mongodb';
import { MongoWireServer } from '../support/mongo-wire-server.js';

describe('MongoDB wire-protocol test double, driven by the official driver', () => {
  let server: MongoWireServer;
  let client: MongoClient;
  let db: Db;
  let uri: string;

  before(async () => {
    server = new MongoWireServer();
    uri = await server.start('wire');
    client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
    await client.connect();
    db = client.db();
  });
  after(async () => {
    await client.close();
    await server.stop();
  });

  it('answers the legacy OP_QUERY handshake with an OP_REPLY', async () => {
    const { port } = new URL(uri);
    const query = BSON.serialize({ isMaster: 1 });
    const ns = Buffer.from('admin.$cmd\0');
    const head = Buffer.alloc(16);
    const fields = Buffer.alloc(4);
    const skipReturn = Buffer.alloc(8);
    skipReturn.writeInt32LE(-1, 4);
    const length = 16 + 4 + ns.length + 8 + query.length;
    head.writeInt32LE(length, 0);
    head.writeInt32LE(42, 4);
    head.writeInt32LE(2004, 12);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () =>
        socket.write(Buffer.concat([head, fields, ns, skipReturn, query])),
      );
      let data = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        data = Buffer.concat([data, chunk]);
        if (data.length >= 4 && data.length >= data.readInt32LE(0)) {
          socket.end();
          resolve(data);
        }
      });
      socket.on('error', reject);
    });
    assert.equal(reply.readInt32LE(8), 42, 'responseTo');
    assert.equal(reply.readInt32LE(12), 1, 'OP_REPLY');
    assert.equal(reply.readInt32LE(32), 1, 'one document');
    const doc = BSON.deserialize(reply.subarray(36));
    assert.equal(doc.ismaster, true);
    assert.equal(doc.ok, 1);
  });

  it('inserts, finds with filter, sort, projection and skip/limit', async () => {
    const people = db.collection('people');
    await people.insertMany([
      { name: 'ann', age: 31, tags: ['a'] },
      { name: 'bob', age: 25, tags: ['b'] },
      { name: 'cy', age: 40, tags: ['a', 'c'] },
    ]);
    const found = await people
      .find({ tags: 'a' }, { projection: { _id: 0, name: 1 } })
      .sort({ age: -1 })
      .toArray();
    assert.deepEqual(found, [{ name: 'cy' }, { name: 'ann' }]);
    const second = await people.find({}).sort({ age: 1 }).skip(1).limit(1).toArray();
    assert.equal(second[0]?.name, 'ann');
    assert.equal(await people.countDocuments({ age: { $gte: 30 } }), 2);
  });

  it('serves large results in batches through getMore', async () => {
    const many = db.collection('many');
    await many.insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    const all = await many.find({}, { batchSize: 40 }).sort({ i: 1 }).toArray();
    assert.equal(all.length, 250);
    assert.equal(all[249]?.i, 249);
  });

  it('enforces unique indexes with error 11000, on insert and on update', async () => {
    const users = db.collection('uniq');
    await users.createIndex({ email: 1 }, { unique: true, name: 'email_unique' });
    await users.insertOne({ email: 'a@example.com' });
    await users.insertOne({ email: 'b@example.com' });
    await assert.rejects(users.insertOne({ email: 'a@example.com' }), (error: unknown) => {
      return (
        error instanceof MongoServerError &&
        error.code === 11000 &&
        (error.keyPattern as object) !== undefined
      );
    });
    await assert.rejects(
      users.findOneAndUpdate({ email: 'b@example.com' }, { $set: { email: 'a@example.com' } }),
      (error: unknown) => error instanceof MongoServerError && error.code === 11000,
    );
    assert.equal(
      await users.countDocuments({ email: 'b@example.com' }),
      1,
      'the refused update changed nothing',
    );
    const indexes = await users.listIndexes().toArray();
    assert.deepEqual(indexes.map((i) => i.name).sort(), ['_id_', 'email_unique']);
  });

  it('updates, upserts, and findAndModify returns the document before or after', async () => {
    const counters = db.collection('counters');
    const upserted = await counters.updateOne({ name: 'hits' }, { $inc: { n: 1 } }, { upsert: true });
    assert.equal(upserted.upsertedCount, 1);
    await counters.updateOne({ name: 'hits' }, { $inc: { n: 2 } });
    const after = await counters.findOneAndUpdate(
      { name: 'hits' },
      { $inc: { n: 1 } },
      { returnDocument: 'after' },
    );
    assert.equal(after?.n, 4);
    const beforeDoc = await counters.findOneAndUpdate(
      { name: 'hits' },
      { $set: { n: 0 } },
      { returnDocument: 'before' },
    );
    assert.equal(beforeDoc?.n, 4);
    const none = await counters.findOneAndUpdate({ name: 'missing' }, { $set: { n: 1 } });
    assert.equal(none, null);
    const removed = await counters.findOneAndDelete({ name: 'hits' });
    assert.equal(removed?.n, 0);
    assert.equal(await counters.countDocuments({}), 0);
  });

  it('aggregates with $match, $sort and $count', async () => {
    const events = db.collection('events');
    await events.insertMany([
      { k: 'x', v: 3 },
      { k: 'y', v: 1 },
      { k: 'x', v: 2 },
    ]);
    const sorted = await events
      .aggregate([{ $match: { k: 'x' } }, { $sort: { v: 1 } }, { $project: { _id: 0, v: 1 } }])
      .toArray();
    assert.deepEqual(sorted, [{ v: 2 }, { v: 3 }]);
    const counted = await events.aggregate([{ $match: { k: 'x' } }, { $count: 'n' }]).toArray();
    assert.deepEqual(counted, [{ n: 2 }]);
  });

  it('deletes one or many, lists, creates and drops collections', async () => {
    const tmp = db.collection('tmp');
    await tmp.insertMany([{ a: 1 }, { a: 1 }, { a: 2 }]);
    assert.equal((await tmp.deleteOne({ a: 1 })).deletedCount, 1);
    assert.equal((await tmp.deleteMany({})).deletedCount, 2);
    await db.createCollection('made');
    const names = (await db.listCollections().toArray()).map((c) => c.name);
    assert.ok(names.includes('made') && names.includes('tmp'));
    assert.equal(await db.dropCollection('made'), true);
    const info = await db.admin().command({ buildInfo: 1 });
    assert.equal(info.version, '7.0.0');
    assert.deepEqual(await db.command({ ping: 1 }), { ok: 1 });
  });

  it('removes documents whose TTL index says they expired', async () => {
    const sessions = db.collection('sessions');
    await sessions.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await sessions.insertMany([
      { expiresAt: new Date(Date.now() - 1000) },
      { expiresAt: new Date(Date.now() + 3_600_000) },
    ]);
    for (let i = 0; i < 30 && (await sessions.countDocuments({})) > 1; i += 1)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(await sessions.countDocuments({}), 1);
  });

  it('answers an unknown command with CommandNotFound', async () => {
    await assert.rejects(
      db.command({ frobnicate: 1 }),
      (error: unknown) => error instanceof MongoServerError && error.code === 59,
    );
  });
});
