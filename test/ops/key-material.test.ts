import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createSqliteClientStore } from '../../adapters/sqlite/client-store.js';
import { openDatabase } from '../../adapters/sqlite/database.js';
import type { KeyRing } from '../../src/keys/signing-keys.js';
import type { ClientStore } from '../../src/stores/client-store.js';
import { api, tokenFor } from '../support/admin.js';
import { exited, freePort, spawnTessera } from '../support/process.js';
import { startTessera, tempDir } from '../support/tessera.js';

/** Every byte of the embedded store: the database file and its write-ahead log. */
const storeBytes = (dataDir: string): string =>
  readdirSync(dataDir)
    .filter((name) => name.startsWith('tessera.db'))
    .map((name) => readFileSync(path.join(dataDir, name)).toString('latin1'))
    .join('');

/** The private parts of every signing key and every cookie key, as the store's values hold them. */
async function privateParts(store: ClientStore): Promise<string[]> {
  const ring = await store.ensureSecretValue<KeyRing>('jwks', () => assert.fail('the ring exists'));
  const cookieKeys = await store.ensureSecretValue<string[]>('cookie-keys', () => assert.fail('they exist'));
  const parts = ring.keys.flatMap((key) =>
    ['d', 'p', 'q', 'dp', 'dq', 'qi'].flatMap((member) =>
      typeof key.jwk[member] === 'string' ? [key.jwk[member] as string] : [],
    ),
  );
  assert.ok(parts.length >= 4, 'RS256 and ES256 keys have private members');
  return [...parts, ...cookieKeys];
}

/** The values of `secret_values` exactly as the file holds them. */
function rawValues(dataDir: string): Record<string, Record<string, unknown>> {
  const db = openDatabase(dataDir);
  try {
    const rows = db.prepare('SELECT name, value FROM secret_values').all() as {
      name: string;
      value: string;
    }[];
    return Object.fromEntries(
      rows.map((row) => [row.name, JSON.parse(row.value) as Record<string, unknown>]),
    );
  } finally {
    db.close();
  }
}

const key = () => randomBytes(32);

describe('key material at rest', () => {
  it('generates secrets.key (0600) on the embedded store; no private key is in the file in the clear, rotations included', async () => {
    const data = tempDir();
    const tessera = await startTessera({ dataDir: data.dir });
    try {
      const file = path.join(data.dir, 'secrets.key');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.match(readFileSync(file, 'utf8'), /^[\w-]{43}\n$/);
      const token = await tokenFor(tessera.url);
      assert.equal((await api(tessera, token, 'POST', '/keys/rotate')).status, 201);
      const parts = await privateParts(tessera.container.clientStore);
      const bytes = storeBytes(data.dir);
      for (const part of parts) assert.ok(!bytes.includes(part), 'a private part in the clear');
      assert.doesNotMatch(bytes, /"d":"/);
      const values = rawValues(data.dir);
      for (const name of ['jwks', 'cookie-keys']) {
        assert.deepEqual(
          Object.keys(values[name]!).sort(),
          ['data', 'iv', 'kid', 'sealed', 'tag', ...(name === 'jwks' ? ['revision'] : [])].sort(),
        );
        assert.equal(values[name]!.sealed, 'A256GCM');
      }
    } finally {
      await tessera.close();
      data.remove();
    }
  });

  it('seals plain material of earlier versions at start, keeping the keys themselves', async () => {
    const data = tempDir();
    const db = openDatabase(data.dir);
    const raw = createSqliteClientStore(db);
    const cookieKeys = ['an-earlier-versions-cookie-key-0123456789ab'];
    await raw.ensureSecretValue('cookie-keys', () => cookieKeys);
    db.close();
    const tessera = await startTessera({ dataDir: data.dir });
    try {
      const opened = await tessera.container.clientStore.ensureSecretValue<string[]>('cookie-keys', () => []);
      assert.deepEqual(opened, cookieKeys);
      assert.equal(rawValues(data.dir)['cookie-keys']!.sealed, 'A256GCM');
      assert.ok(!storeBytes(data.dir).includes(cookieKeys[0]!));
    } finally {
      await tessera.close();
      data.remove();
    }
  });

  it('re-encrypts under the first listed key at start, so an old key can then be dropped', async () => {
    const data = tempDir();
    const [first, second] = [key().toString('hex'), key().toString('base64url')];
    const start = async (secretsKey: string) =>
      startTessera({ dataDir: data.dir, env: { TESSERA_SECRETS_KEY: secretsKey } });
    try {
      let tessera = await start(first);
      const parts = await privateParts(tessera.container.clientStore);
      await tessera.close();
      const sealedFirst = rawValues(data.dir).jwks!.kid;

      tessera = await start(`${second},${first}`);
      assert.deepEqual(await privateParts(tessera.container.clientStore), parts);
      await tessera.close();
      const values = rawValues(data.dir);
      assert.notEqual(values.jwks!.kid, sealedFirst);
      assert.equal(values['cookie-keys']!.kid, values.jwks!.kid, 'both under the new key');

      tessera = await start(second);
      assert.deepEqual(
        await privateParts(tessera.container.clientStore),
        parts,
        'the new key alone opens it',
      );
      await tessera.close();
    } finally {
      data.remove();
    }
  });

  it('never prints the generated key; a key that opens nothing stops the start with one line naming the store and the material', async () => {
    const data = tempDir();
    const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/main.js');
    const wrong = key().toString('hex');
    try {
      const first = await spawnTessera({ TESSERA_DATA_DIR: data.dir });
      await first.stop();
      const generated = readFileSync(path.join(data.dir, 'secrets.key'), 'utf8').trim();
      assert.ok(!first.stdout().includes(generated) && !first.stderr().includes(generated));
      const child = spawn(process.execPath, [main], {
        env: {
          PATH: process.env.PATH ?? '',
          PORT: String(await freePort()),
          MTLS_PORT: '0',
          TESSERA_DATA_DIR: data.dir,
          TESSERA_SECRETS_KEY: wrong,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      assert.equal(await exited(child), 1);
      const lines = out.split('\n').filter((line) => line && !line.includes('Unsupported runtime'));
      assert.deepEqual(lines, [
        'tessera: invalid setting TESSERA_SECRETS_KEY: none of its keys opens the cookie keys in the client store (SQLite)',
      ]);
      assert.ok(!out.includes(generated) && !out.includes(wrong));
    } finally {
      data.remove();
    }
  });
});
