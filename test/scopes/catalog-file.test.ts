import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { tempDir } from '../support/tessera.js';

const files = tempDir('tessera-catalog-');
let written = 0;
/** Writes `content` (JSON unless a string) to a new catalog file and returns its path. */
const catalogFile = (content: unknown): string => {
  const file = path.join(files.dir, `catalog-${(written += 1)}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};
const scopes = (...entries: unknown[]) => ({ scopes: entries });

/** The one line a start stops with for this catalog. */
function refusal(file: string): string {
  try {
    loadConfig({ TESSERA_SCOPES_FILE: file });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.variable, 'TESSERA_SCOPES_FILE');
    assert.ok(!error.message.includes('\n'), 'one line');
    return error.message;
  }
  assert.fail(`${file} was accepted`);
}

describe('scope catalog file: every bad file stops the start with one line naming the scope or the file', () => {
  after(() => files.remove());

  const cases: [label: string, content: unknown, message: (file: string) => string][] = [
    ['not JSON', '{"scopes": [', (f) => `${f} is not valid JSON (`],
    ['not an object', '[]', (f) => `${f}: the file: `],
    ['no scopes', {}, (f) => `${f}: scopes: `],
    ['an empty list', scopes(), (f) => `${f}: scopes: `],
    [
      'an unknown top-level field',
      { scopes: [{ name: 'a' }], extra: 1 },
      (f) => `${f}: the file: unknown field extra`,
    ],
    ['an unknown field', scopes({ name: 'a', implied: [] }), (f) => `${f}: scope "a": unknown field implied`],
    [
      'a name that is not a scope token',
      scopes({ name: 'has space' }),
      (f) => `${f}: scopes.0.name: must be a scope token`,
    ],
    [
      'a name with the wildcard',
      scopes({ name: 'api:*' }),
      (f) => `${f}: scopes.0.name: must be a scope token`,
    ],
    ['a name that is not a string', scopes({ name: 7 }), (f) => `${f}: scopes.0.name: `],
    [
      'a description that is not a string',
      scopes({ name: 'a', description: 1 }),
      (f) => `${f}: scope "a", description: `,
    ],
    ['implies that is not a list', scopes({ name: 'a', implies: 'b' }), (f) => `${f}: scope "a", implies: `],
    [
      'a built-in name',
      scopes({ name: 'admin' }),
      (f) => `${f}: scope "admin" is a built-in scope and cannot be redefined`,
    ],
    [
      'a duplicate',
      scopes({ name: 'a' }, { name: 'b' }, { name: 'a' }),
      (f) => `${f}: scope "a" is declared twice`,
    ],
    [
      'an unknown implied name',
      scopes({ name: 'a', implies: ['b'] }),
      (f) => `${f}: scope "a": implies unknown scope "b"`,
    ],
    [
      'an implied built-in',
      scopes({ name: 'a', implies: ['admin'] }),
      (f) => `${f}: scope "a": implies "admin", a built-in scope`,
    ],
    [
      'a scope implying itself',
      scopes({ name: 'a', implies: ['a'] }),
      (f) => `${f}: scope "a": implies itself`,
    ],
    [
      'a cycle',
      scopes({ name: 'a', implies: ['b'] }, { name: 'b', implies: ['c'] }, { name: 'c', implies: ['a'] }),
      (f) => `${f}: scope "a": implies itself through a cycle (a -> b -> c -> a)`,
    ],
    [
      'a cycle through a wildcard',
      scopes({ name: 'x:all', implies: ['x:*'] }, { name: 'x:upsert', implies: ['x:all'] }),
      (f) => `${f}: scope "x:all": implies itself through a cycle (x:all -> x:upsert -> x:all)`,
    ],
    [
      'a wildcard matching nothing',
      scopes({ name: 'a', implies: ['b:*'] }),
      (f) => `${f}: scope "a": implies "b:*", which matches no catalog scope`,
    ],
    [
      'a wildcard without a colon',
      scopes({ name: 'a', implies: ['b*'] }),
      (f) => `${f}: scope "a": implies "b*": a wildcard is a prefix ending in ":" followed by "*"`,
    ],
  ];
  for (const [label, content, message] of cases) {
    it(`refuses ${label}`, () => {
      const file = catalogFile(content);
      const line = refusal(file);
      assert.ok(line.startsWith(`TESSERA_SCOPES_FILE: ${message(file)}`), line);
    });
  }

  it('refuses a file that does not exist', () => {
    const missing = path.join(files.dir, 'missing.json');
    assert.equal(refusal(missing), `TESSERA_SCOPES_FILE: ${missing} cannot be read (ENOENT)`);
  });

  it('stores the closure once: wildcards, transitive implications, catalog order, descriptions', () => {
    const config = loadConfig({
      TESSERA_SCOPES: 'ignored:scope',
      TESSERA_SCOPES_FILE: catalogFile(
        scopes(
          { name: 'account:all', description: 'Everything on accounts', implies: ['account:*'] },
          { name: 'account:read' },
          { name: 'account:upsert', implies: ['account:create', 'account:update'] },
          { name: 'account:create' },
          { name: 'account:update' },
          { name: 'report', implies: ['account:read'] },
        ),
      ),
    });
    assert.deepEqual(config.extraScopes, [
      'account:all',
      'account:read',
      'account:upsert',
      'account:create',
      'account:update',
      'report',
    ]);
    const { scopeCatalog: catalog } = config;
    assert.deepEqual(catalog.expand(['account:all']), [
      'account:all',
      'account:read',
      'account:upsert',
      'account:create',
      'account:update',
    ]);
    assert.deepEqual(catalog.expand(['account:update', 'account:upsert']), [
      'account:upsert',
      'account:create',
      'account:update',
    ]);
    assert.deepEqual(catalog.expand(['report', 'openid']), ['openid', 'account:read', 'report']);
    assert.deepEqual(catalog.expand(['made:up', 'report']), ['account:read', 'report', 'made:up']);
    assert.equal(catalog.describe('account:all'), 'Everything on accounts');
    assert.equal(catalog.describe('report'), 'An API scope of this deployment');
    assert.equal(catalog.describe('clients:read'), 'Read the OAuth clients of the account');
    assert.equal(catalog.hasImplications, true);
    assert.equal(loadConfig({}).scopeCatalog.hasImplications, false);
  });
});
