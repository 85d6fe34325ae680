import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoWireServer } from './mongo-wire-server.js';

/** A `TESSERA_SECRETS_KEY` for tests on MongoDB, where the setting is required. */
export const TEST_SECRETS_KEY = 'a0'.repeat(32);

/** The same URI naming another database. */
export function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}

export interface TestMongo {
  /** A URI naming a database of this test's own. */
  uri: string;
  /** Drops that database (real MongoDB) or stops the double. */
  dispose(): Promise<void>;
  external: boolean;
  /** The double itself (absent for a real MongoDB), for tests that make it stop answering. */
  double?: MongoWireServer;
}

/**
 * A MongoDB for one test file: the server at `MONGODB_URI` when it is set (in a fresh database,
 * dropped afterwards), else the wire-protocol test double on a loopback port.
 */
export async function testMongo(name: string): Promise<TestMongo> {
  const database = `tessera_${name}_${randomUUID().slice(0, 8)}`;
  const external = process.env.MONGODB_URI;
  if (external) {
    const uri = withDatabase(external, database);
    return {
      uri,
      external: true,
      async dispose() {
        const client = new MongoClient(uri);
        try {
          await client.db().dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  }
  const double = new MongoWireServer();
  const uri = withDatabase(await double.start(), database);
  return { uri, external: false, double, dispose: () => double.stop() };
}
