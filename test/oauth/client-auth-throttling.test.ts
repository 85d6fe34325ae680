import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { Browser, pkce } from '../support/browser.js';
import { basic, type Credentials } from '../support/oauth.js';
import { advanceRedisClock, twoNodesOnRedis } from '../support/redis.js';
import { startTessera, tempDir, type RunningTessera } from '../support/tessera.js';
import { send } from '../support/tls.js';

const OTHER_ADDRESS = '127.0.0.2';

/** A client-credentials request from `localAddress` (default 127.0.0.1). */
const token = (base: string, creds: Credentials, localAddress?: string) =>
  send(`${base}/oauth/token`, {
    form: { grant_type: 'client_credentials' },
    headers: basic(creds.clientId, creds.secret),
    ...(localAddress ? { localAddress } : {}),
  });

describe('client-authentication throttling', () => {
  const data = tempDir();
  let tessera: RunningTessera;
  let root: string;

  before(async () => {
    tessera = await startTessera({ dataDir: data.dir, env: { TESSERA_CLIENT_AUTH_MAX_FAILURES: '5' } });
    root = await tokenFor(tessera.url);
  });
  after(async () => {
    await tessera.close();
    data.remove();
  });

  const newClient = async (name: string) =>
    credentialsOf(await api(tessera, root, 'POST', '/clients', { client_name: name, scope: 'api:read' }));

  /** Moves the embedded limiter's windows `ms` into the past, as if that much time had gone by. */
  const advanceClock = (ms: number) => {
    const db = new Database(path.join(data.dir, 'tessera.db'));
    try {
      db.prepare('UPDATE limits SET expire = expire - ?').run(ms);
    } finally {
      db.close();
    }
  };

  it('throttles a flood of wrong secrets from one address, even the right secret, and nobody else', async () => {
    const client = await newClient('flooded');
    const wrong = { ...client, secret: 'wrong-secret' };
    for (let i = 0; i < 5; i += 1) {
      const res = await token(tessera.url, wrong);
      assert.equal(res.status, 401);
      assert.equal(res.body.error, 'invalid_client');
    }
    for (const creds of [wrong, client]) {
      const res = await token(tessera.url, creds);
      assert.equal(res.status, 429);
      assert.deepEqual(res.body, {
        error: 'invalid_client',
        error_description: 'too many failed client authentications from this address; retry later',
      });
      const retryAfter = Number(res.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 300, `Retry-After ${retryAfter}`);
    }
    // The same pair is throttled at introspection too; other addresses and clients are not.
    const introspection = await send(`${tessera.url}/oauth/introspect`, {
      form: { token: 'x' },
      headers: basic(client.clientId, client.secret),
    });
    assert.equal(introspection.status, 429);
    assert.equal((await token(tessera.url, client, OTHER_ADDRESS)).status, 200);
    assert.equal((await token(tessera.url, await newClient('bystander'))).status, 200);

    const lines = tessera.logs.filter((line) => line.includes('client authentication throttled'));
    assert.equal(lines.length, 1, 'logged once per window');
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual([line.client_id, line.address, line.failures], [client.clientId, '127.0.0.1', 5]);
    assert.ok(!tessera.logs.some((l) => l.includes(client.secret) || l.includes('wrong-secret')));
  });

  it('counts unknown client ids too, keyed by the id presented', async () => {
    const ghost = { clientId: 'no-such-client', secret: 'whatever' };
    for (let i = 0; i < 5; i += 1) assert.equal((await token(tessera.url, ghost)).status, 401);
    assert.equal((await token(tessera.url, ghost)).status, 429);
    assert.equal((await token(tessera.url, { ...ghost, clientId: 'another-ghost' })).status, 401);
  });

  it('lets the client in again once the window has passed', async () => {
    const client = await newClient('patient');
    for (let i = 0; i < 5; i += 1) await token(tessera.url, { ...client, secret: 'nope' });
    assert.equal((await token(tessera.url, client)).status, 429);
    advanceClock(299_000);
    assert.equal((await token(tessera.url, client)).status, 429, 'not yet');
    advanceClock(2_000);
    assert.equal((await token(tessera.url, client)).status, 200);
  });

  it('hashes at most the limit of a burst, and the right secret from elsewhere succeeds at once', async () => {
    const client = await newClient('burst');
    const before = tessera.container.secrets.stats().argon2;
    const burst = await Promise.all(
      // Each starts with the secret's hint, so each would be worth an argon2 check.
      Array.from({ length: 40 }, (_, i) =>
        token(tessera.url, { ...client, secret: `${client.secret.slice(0, 4)}wrong-${i}` }),
      ),
    );
    const statuses = burst.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, 5);
    assert.equal(statuses.filter((s) => s === 429).length, 35);
    assert.equal(tessera.container.secrets.stats().argon2 - before, 5);

    // The flood goes on while the client, not yet verified in this process, asks from elsewhere.
    const [right, ...flood] = await Promise.all([
      token(tessera.url, client, OTHER_ADDRESS),
      ...Array.from({ length: 40 }, (_, i) => token(tessera.url, { ...client, secret: `more-${i}` })),
    ]);
    assert.equal(right!.status, 200, JSON.stringify(right!.body));
    assert.ok(flood.every((r) => r.status === 429));
  });

  it('lets wrong passwords for admin from one address not stop admin signing in from another', async () => {
    const authorize = () =>
      `/oauth/authorize?${new URLSearchParams({
        client_id: 'tessera-console',
        response_type: 'code',
        redirect_uri: `${tessera.url}/admin/callback`,
        scope: 'openid',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      })}`;
    const attacker = new Browser(tessera.url, `${tessera.url}/admin/callback`);
    let page = await attacker.follow(authorize());
    for (let i = 0; i < 5; i += 1) {
      page = await attacker.submit(page, '/login', { username: 'admin', password: `guess ${i}` });
      assert.equal(page.status, 401);
    }
    page = await attacker.submit(page, '/login', { username: 'admin', password: 'test-admin-password' });
    assert.equal(page.status, 429, 'the guessing address is throttled for admin');

    const admin = new Browser(tessera.url, `${tessera.url}/admin/callback`, OTHER_ADDRESS);
    const login = await admin.follow(authorize());
    const signedIn = await admin.submit(login, '/login', {
      username: 'admin',
      password: 'test-admin-password',
    });
    assert.equal(signedIn.status, 303);
    assert.ok(new URL(signedIn.location!).searchParams.get('code'));
  });
});

describe('client-authentication throttling across processes', () => {
  const admin: Credentials = { clientId: 'tessera-admin', secret: 'throttle-admin-secret-0123456789abcdef' };
  const nodes = twoNodesOnRedis(9, {
    TESSERA_ADMIN_CLIENT_SECRET: admin.secret,
    TESSERA_CLIENT_AUTH_MAX_FAILURES: '4',
  });

  it('shares one count between two processes on one Redis, and forgets it when the window passes', async () => {
    const { one, two, redisUrl } = nodes;
    const wrong = { ...admin, secret: 'not-the-secret' };
    for (const node of [one, two, one, two]) assert.equal((await token(node.url, wrong)).status, 401);
    assert.equal((await token(one.url, admin)).status, 429);
    assert.equal((await token(two.url, admin)).status, 429);
    assert.equal((await token(two.url, admin, OTHER_ADDRESS)).status, 200);
    await advanceRedisClock(redisUrl, 'tessera:limit:', 301_000);
    assert.equal((await token(one.url, admin)).status, 200);
  });
});
