import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { adminHarness, api, credentialsOf, tokenFor, type AdminHarness } from '../support/admin.js';
import { openDatabase } from '../../adapters/sqlite/database.js';
import { createSqliteClientStore } from '../../adapters/sqlite/client-store.js';
import { codeThroughForms } from '../support/browser.js';
import { startTessera, tempDir } from '../support/tessera.js';
import { twoNodesOnRedis } from '../support/redis.js';
import {
  ADMIN,
  clientCredentials,
  introspect,
  jwtSignedWith,
  redeemCode,
  type Credentials,
} from '../support/oauth.js';

const ORDERS = 'https://orders.example.com';
const REDIRECT = 'https://app.example.com/callback';
/** The members of a private JWK beyond its public half. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

const kidsOf = async (base: string): Promise<string[]> => {
  const res = await fetch(`${base}/oauth/jwks`);
  assert.equal(res.status, 200);
  const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
  for (const key of keys) for (const member of PRIVATE_MEMBERS) assert.equal(key[member], undefined);
  return keys.map((key) => String(key.kid));
};

const kidOf = (token: string) => String(decodeProtectedHeader(token).kid);

/** A resource server with jose alone: the JWKS fetched now, over HTTP. */
const verify = (base: string, token: string) =>
  jwtVerify(token, createRemoteJWKSet(new URL(`${base}/oauth/jwks`)), {
    issuer: base,
    audience: ORDERS,
    typ: 'at+jwt',
  });

/** A JWT-format resource server and a client allowed its scope, on `base`. */
async function jwtClient(base: string | AdminHarness['tessera'], token: string): Promise<Credentials> {
  const resource = await api(base, token, 'POST', '/resources', {
    identifier: ORDERS,
    name: 'Orders',
    scope: 'api:read',
    access_token_format: 'jwt',
  });
  assert.equal(resource.status, 201, JSON.stringify(resource.body));
  return credentialsOf(
    await api(base, token, 'POST', '/clients', { client_name: 'orders worker', scope: 'api:read' }),
  );
}

const jwtFrom = async (base: string, creds: Credentials) => {
  const res = await clientCredentials(base, creds, { resource: ORDERS });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return String(res.body.access_token);
};

describe('signing-key rotation', () => {
  // The clock key publication is measured by; the test moves it instead of waiting.
  let clock = Date.parse('2026-12-02T10:00:00.000Z');
  // Longest lifetime: max(600, the ID tokens' 3600) s, and 60 s for requests in flight.
  const retentionMs = (3600 + 60) * 1000;
  const h = adminHarness({ now: () => clock, env: { TESSERA_MAX_ACCESS_TOKEN_TTL: '600' } });
  let creds: Credentials;

  it('answers 201 {kid, activates_at}; new tokens carry the new kid and tokens signed before still verify', async () => {
    creds = await jwtClient(h.tessera, h.token);
    const before = await jwtFrom(h.tessera.url, creds);
    const oldKid = kidOf(before);
    assert.deepEqual((await verify(h.tessera.url, before)).payload.client_id, creds.clientId);

    const rotated = await api(h.tessera, h.token, 'POST', '/keys/rotate');
    assert.equal(rotated.status, 201);
    assert.deepEqual(Object.keys(rotated.body), ['kid', 'activates_at']);
    assert.equal(rotated.body.activates_at, new Date(clock).toISOString());
    const newKid = String(rotated.body.kid);
    assert.notEqual(newKid, oldKid);

    const after = await jwtFrom(h.tessera.url, creds);
    assert.equal(kidOf(after), newKid);
    assert.equal(decodeProtectedHeader(after).alg, 'ES256');
    assert.equal((await verify(h.tessera.url, after)).payload.client_id, creds.clientId);
    assert.equal((await verify(h.tessera.url, before)).payload.client_id, creds.clientId);
    const kids = await kidsOf(h.tessera.url);
    assert.ok(kids.includes(oldKid) && kids.includes(newKid));
    assert.equal(kids.length, 4, 'the new RS256 and ES256 keys, and the two they replaced');
    assert.equal((await introspect(h.tessera.url, ADMIN, before)).body.active, true);
    assert.equal((await introspect(h.tessera.url, ADMIN, after)).body.active, true);
  });

  it('lists the keys without private parts, and audits the rotation', async () => {
    const listed = await api(h.tessera, h.token, 'GET', '/keys');
    assert.equal(listed.status, 200);
    assert.deepEqual(Object.keys(listed.body), ['data']);
    const keys = listed.body.data as Record<string, unknown>[];
    assert.equal(keys.length, 4);
    const at = new Date(clock).toISOString();
    const until = new Date(clock + retentionMs).toISOString();
    const current = keys.filter((key) => key.status === 'current');
    assert.deepEqual(current.map((key) => key.alg).sort(), ['ES256', 'RS256']);
    for (const key of current) {
      assert.deepEqual(Object.keys(key), [
        'kid',
        'alg',
        'status',
        'created_at',
        'activates_at',
        'retires_at',
      ]);
      assert.deepEqual([key.created_at, key.activates_at, key.retires_at], [at, at, null]);
    }
    for (const key of keys.filter((entry) => entry.status === 'retired')) {
      assert.equal(key.retires_at, until);
    }
    for (const member of [...PRIVATE_MEMBERS, 'jwk'])
      assert.ok(!JSON.stringify(listed.body).includes(`"${member}"`));

    const audit = await api(h.tessera, h.token, 'GET', '/audit');
    const entry = (audit.body.data as Record<string, unknown>[])[0]!;
    const esKid = current.find((key) => key.alg === 'ES256')!.kid;
    assert.deepEqual(
      [entry.action, entry.actor, entry.target],
      ['keys.rotate', 'client:tessera-admin', `key:${esKid}`],
    );
    assert.deepEqual(entry.details, {
      added: [
        current.find((key) => key.alg === 'RS256')!.kid,
        current.find((key) => key.alg === 'ES256')!.kid,
      ],
      activates_at: at,
    });
  });

  it('signs ID tokens with the new RS256 key', async () => {
    const created = await api(h.tessera, h.token, 'POST', '/clients', {
      client_name: 'web app',
      grant_types: ['authorization_code'],
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      scope: 'openid',
      require_consent: false,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const clientId = String((created.body.client as { client_id: string }).client_id);
    const user = await api(h.tessera, h.token, 'POST', '/users', {
      username: 'rotation-user',
      password: 'rotation user password',
      role: 'member',
    });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const { code, verifier } = await codeThroughForms(h.tessera.url, {
      clientId,
      redirectUri: REDIRECT,
      scope: 'openid',
      username: 'rotation-user',
      password: 'rotation user password',
    });
    const tokens = await redeemCode(h.tessera.url, { clientId, redirectUri: REDIRECT, code, verifier });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const listed = (await api(h.tessera, h.token, 'GET', '/keys')).body.data as Record<string, unknown>[];
    const rsa = listed.find((key) => key.alg === 'RS256' && key.status === 'current')!;
    assert.equal(kidOf(String(tokens.body.id_token)), rsa.kid);
  });

  it('keeps replaced keys in /oauth/jwks until their tokens have expired, then drops them', async () => {
    const retired = ((await api(h.tessera, h.token, 'GET', '/keys')).body.data as Record<string, unknown>[])
      .filter((key) => key.status === 'retired')
      .map((key) => String(key.kid));
    const leaves = clock + retentionMs;
    clock = leaves - 1;
    assert.equal((await kidsOf(h.tessera.url)).filter((kid) => retired.includes(kid)).length, 2);
    clock = leaves;
    const kids = await kidsOf(h.tessera.url);
    assert.equal(kids.length, 2);
    assert.ok(kids.every((kid) => !retired.includes(kid)));
    const listed = (await api(h.tessera, h.token, 'GET', '/keys')).body.data as Record<string, unknown>[];
    assert.deepEqual(
      listed.map((key) => key.status),
      ['current', 'current'],
    );
    // Still signing with the current key, which stays.
    const token = await jwtFrom(h.tessera.url, creds);
    assert.ok(kids.includes(kidOf(token)));

    // The next rotation drops their private keys from the store.
    assert.equal((await api(h.tessera, h.token, 'POST', '/keys/rotate', {})).status, 201);
    const stored = await h.tessera.container.clientStore.ensureSecretValue<{
      keys: { jwk: { kid: string } }[];
    }>('jwks', () => ({ keys: [] }));
    assert.deepEqual(
      stored.keys.map((key) => key.jwk.kid).filter((kid) => retired.includes(kid)),
      [],
    );
    assert.equal(stored.keys.length, 4);
  });

  it('never writes a private key to the log', async () => {
    const stored = await h.tessera.container.clientStore.ensureSecretValue<{
      keys: { jwk: { d: string } }[];
    }>('jwks', () => ({ keys: [] }));
    const log = h.tessera.logs.join('\n');
    assert.ok(log.includes('signing keys changed'));
    for (const key of stored.keys) assert.ok(!log.includes(key.jwk.d));
  });

  it('is for accounts:admin only, and takes activate_in alone', async () => {
    const adminOnly = await tokenFor(h.tessera.url, ADMIN, 'admin');
    const refused = await api(h.tessera, adminOnly, 'POST', '/keys/rotate');
    assert.deepEqual(
      [refused.status, refused.body],
      [
        403,
        {
          error: 'insufficient_scope',
          error_description: 'this call needs one of the scopes: accounts:admin',
        },
      ],
    );
    assert.equal((await api(h.tessera, adminOnly, 'GET', '/keys')).status, 403);
    const kids = await kidsOf(h.tessera.url);
    const withOption = await api(h.tessera, h.token, 'POST', '/keys/rotate', { alg: 'RS256' });
    assert.deepEqual(
      [withOption.status, withOption.body],
      [400, { error: 'invalid_request', error_description: 'unknown field: alg' }],
    );
    for (const [body, description] of [
      [{ activate_in: -1 }, 'activate_in: must be between 0 and 604800 seconds'],
      [{ activate_in: 604801 }, 'activate_in: must be between 0 and 604800 seconds'],
      [{ activate_in: 1.5 }, 'activate_in: must be a whole number of seconds'],
    ] as const) {
      const bad = await api(h.tessera, h.token, 'POST', '/keys/rotate', body);
      assert.deepEqual(
        [bad.status, bad.body],
        [400, { error: 'invalid_request', error_description: description }],
      );
    }
    assert.deepEqual(await kidsOf(h.tessera.url), kids, 'nothing rotated');
  });
});

describe('signing-key rotation on two processes', () => {
  const admin = { clientId: 'tessera-admin', secret: 'key-rotation-admin-secret-0123456789abcdef' };
  const issuer = 'http://auth.tessera.test';
  const nodes = twoNodesOnRedis(14, { TESSERA_ADMIN_CLIENT_SECRET: admin.secret, ISSUER: issuer });

  it('publish the new key at once, and sign with it from the next token here and within a second there', async () => {
    const { one, two } = nodes;
    const root = await tokenFor(one.url, admin);
    const creds = await jwtClient(one.url, root);
    const before = await jwtFrom(two.url, creds);

    const rotated = await api(one.url, root, 'POST', '/keys/rotate');
    assert.equal(rotated.status, 201);
    const kid = String(rotated.body.kid);
    assert.ok((await kidsOf(two.url)).includes(kid), 'the other node publishes the new key at once');
    const onOne = await jwtFrom(one.url, creds);
    assert.equal(kidOf(onOne), kid);
    // Introspected on the other node before it signs with the new key itself.
    assert.equal((await introspect(two.url, admin, onOne)).body.active, true);
    await jwtSignedWith(two.url, creds, ORDERS, kid);
    for (const url of [one.url, two.url]) {
      const kids = await kidsOf(url);
      assert.ok(kids.includes(kid) && kids.includes(kidOf(before)));
      assert.equal((await introspect(url, admin, onOne)).body.active, true);
      assert.equal((await introspect(url, admin, before)).body.active, true);
    }
  });

  it('sign with a key activated later on both nodes within a second of its activation', async () => {
    const { one, two } = nodes;
    const root = await tokenFor(one.url, admin);
    // The resource server of the first test stays; a client allowed its scope is enough.
    const creds = credentialsOf(
      await api(one.url, root, 'POST', '/clients', { client_name: 'activated later', scope: 'api:read' }),
    );
    const old = kidOf(await jwtFrom(two.url, creds));
    const rotated = await api(one.url, root, 'POST', '/keys/rotate', { activate_in: 2 });
    assert.equal(rotated.status, 201);
    const activatesAt = Date.parse(String(rotated.body.activates_at));
    assert.ok(
      (await kidsOf(two.url)).includes(String(rotated.body.kid)),
      'published on the other node at once',
    );
    const early = kidOf(await jwtFrom(two.url, creds));
    if (Date.now() < activatesAt) assert.equal(early, old, 'not signing before its activation');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, activatesAt + 1000 - Date.now())));
    assert.equal(kidOf(await jwtFrom(two.url, creds)), rotated.body.kid, 'node two, a second after');
    assert.equal(kidOf(await jwtFrom(one.url, creds)), rotated.body.kid, 'node one too');
  });

  it('applies rotations made on both at once, one after the other', async () => {
    const { one, two } = nodes;
    const root = await tokenFor(one.url, admin);
    const [a, b] = await Promise.all([
      api(one.url, root, 'POST', '/keys/rotate'),
      api(two.url, root, 'POST', '/keys/rotate'),
    ]);
    assert.deepEqual([a.status, b.status], [201, 201]);
    assert.notEqual(a.body.kid, b.body.kid);
    const listed = (await api(two.url, root, 'GET', '/keys')).body.data as Record<string, unknown>[];
    const current = listed.filter((key) => key.status === 'current' && key.alg === 'ES256');
    assert.equal(current.length, 1);
    assert.ok([a.body.kid, b.body.kid].includes(current[0]!.kid));
    const kids = new Set(listed.map((key) => key.kid));
    assert.ok(kids.has(a.body.kid) && kids.has(b.body.kid));
    assert.deepEqual((await kidsOf(one.url)).sort(), (await kidsOf(two.url)).sort());
  });
});

describe('signing-key rotation of keys stored before rotations existed', () => {
  const data = tempDir();
  // What earlier versions stored: a plain private JWKS, one RS256 and one ES256 key.
  const plain = {
    keys: [
      {
        ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
        kid: 'old-rsa',
        alg: 'RS256',
        use: 'sig',
      },
      {
        ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
        kid: 'old-ec',
        alg: 'ES256',
        use: 'sig',
      },
    ],
  };
  // Before the harness starts Tessera on the same folder.
  before(async () => {
    const store = createSqliteClientStore(openDatabase(data.dir));
    await store.ensureSecretValue('jwks', () => plain);
    await store.close();
  });
  const h = adminHarness({ dataDir: data.dir });
  after(() => data.remove());

  it('keeps signing with them, then retires them at the first rotation', async () => {
    assert.deepEqual((await kidsOf(h.tessera.url)).sort(), ['old-ec', 'old-rsa']);
    const creds = await jwtClient(h.tessera, h.token);
    const before = await jwtFrom(h.tessera.url, creds);
    assert.equal(kidOf(before), 'old-ec');
    const rotated = await api(h.tessera, h.token, 'POST', '/keys/rotate');
    assert.equal(rotated.status, 201);
    assert.equal(kidOf(await jwtFrom(h.tessera.url, creds)), rotated.body.kid);
    const listed = (await api(h.tessera, h.token, 'GET', '/keys')).body.data as Record<string, unknown>[];
    assert.deepEqual(
      listed.filter((key) => key.status === 'retired').map((key) => [key.kid, key.created_at]),
      [
        ['old-rsa', null],
        ['old-ec', null],
      ],
    );
    assert.equal((await verify(h.tessera.url, before)).payload.client_id, creds.clientId);
  });
});

describe('signing keys published before they sign', () => {
  let clock = Date.parse('2026-12-07T10:00:00.000Z');
  const retentionMs = (3600 + 60) * 1000;
  // No background look at the ring: only the requests themselves switch the keys.
  const h = adminHarness({
    now: () => clock,
    env: { TESSERA_MAX_ACCESS_TOKEN_TTL: '600' },
    keyRingPollMs: 3_600_000,
  });
  let creds: Credentials;
  const listed = async () =>
    (await api(h.tessera, h.token, 'GET', '/keys')).body.data as Record<string, string | null>[];

  it('publishes a key with activate_in at once as next, while the current key goes on signing', async () => {
    creds = await jwtClient(h.tessera, h.token);
    const old = kidOf(await jwtFrom(h.tessera.url, creds));
    const first = await api(h.tessera, h.token, 'POST', '/keys/rotate', { activate_in: 3600 });
    assert.deepEqual(first.body, {
      kid: first.body.kid,
      activates_at: new Date(clock + 3_600_000).toISOString(),
    });
    assert.equal(first.status, 201);
    assert.ok((await kidsOf(h.tessera.url)).includes(String(first.body.kid)));
    assert.equal(kidOf(await jwtFrom(h.tessera.url, creds)), old);
    const next = (await listed()).filter((key) => key.status === 'next');
    assert.deepEqual(next.map((key) => [key.alg, key.activates_at, key.retires_at]).sort(), [
      ['ES256', first.body.activates_at, null],
      ['RS256', first.body.activates_at, null],
    ]);

    // A rotation while keys are next replaces them.
    const second = await api(h.tessera, h.token, 'POST', '/keys/rotate', { activate_in: 600 });
    assert.equal(second.status, 201);
    const kids = await kidsOf(h.tessera.url);
    assert.ok(!kids.includes(String(first.body.kid)) && kids.includes(String(second.body.kid)));
    assert.deepEqual(
      (await listed()).map((key) => key.status),
      ['next', 'next', 'current', 'current'],
    );
    const audit = await api(h.tessera, h.token, 'GET', '/audit?limit=1');
    const details = (audit.body.data as { details: { replaced: string[] } }[])[0]!.details;
    assert.deepEqual(details.replaced.sort(), next.map((key) => String(key.kid)).sort());

    clock += 600_000 - 1;
    assert.equal(kidOf(await jwtFrom(h.tessera.url, creds)), old, 'a millisecond before');
    clock += 1;
    // The first token request from the activation on switches, without a look at the JWKS.
    assert.equal(kidOf(await jwtFrom(h.tessera.url, creds)), second.body.kid, 'from its activation');
    const after = await listed();
    assert.deepEqual(
      after.map((key) => key.status),
      ['current', 'current', 'retired', 'retired'],
    );
    for (const key of after.filter((entry) => entry.status === 'retired')) {
      assert.equal(key.retires_at, new Date(clock + retentionMs).toISOString());
    }
  });
});

describe('scheduled signing-key rotation', () => {
  let clock = Date.parse('2026-12-07T10:00:00.000Z');
  const data = tempDir();
  const env = { TESSERA_KEY_ROTATION_DAYS: '30' };
  const h = adminHarness({ now: () => clock, env, dataDir: data.dir });
  after(() => data.remove());
  const day = 86_400_000;
  const statuses = async () =>
    ((await api(h.tessera, h.token, 'GET', '/keys')).body.data as Record<string, string | null>[]).map(
      (key) => [key.status, key.activates_at],
    );

  it('publishes new keys a day before the current ones have signed for the set days, once', async () => {
    const start = new Date(clock).toISOString();
    assert.deepEqual(await statuses(), [
      ['current', start],
      ['current', start],
    ]);
    clock += 29 * day - 1;
    await h.tessera.container.checkKeySchedule();
    assert.equal((await statuses()).length, 2, 'not due yet');
    clock += 1;
    await h.tessera.container.checkKeySchedule();
    const activates = new Date(clock + day).toISOString();
    assert.deepEqual((await statuses()).slice(0, 2), [
      ['next', activates],
      ['next', activates],
    ]);
    await h.tessera.container.checkKeySchedule();
    assert.equal((await statuses()).length, 4, 'a key already next is not replaced by the schedule');
    const audit = await api(
      h.tessera,
      h.token,
      'GET',
      '/audit?target=key:' +
        String(
          ((await api(h.tessera, h.token, 'GET', '/keys')).body.data as { kid: string; alg: string }[]).find(
            (key) => key.alg === 'ES256',
          )!.kid,
        ),
    );
    assert.deepEqual(
      (audit.body.data as { actor: string; action: string }[]).map((entry) => [entry.action, entry.actor]),
      [['keys.rotate', 'system:key-schedule']],
    );
  });

  it('rotates once however many nodes check at once', async () => {
    const other = await startTessera({ now: () => clock, env, dataDir: data.dir });
    try {
      clock += 30 * day;
      await Promise.all([h.tessera.container.checkKeySchedule(), other.container.checkKeySchedule()]);
      const listed = (await api(h.tessera, h.token, 'GET', '/keys')).body.data as { status: string }[];
      assert.deepEqual(
        listed.map((key) => key.status),
        ['next', 'next', 'current', 'current'],
        'the keys retired a month ago have left',
      );
      const audit = await api(h.tessera, h.token, 'GET', '/audit?limit=5');
      const rotations = (audit.body.data as { action: string }[]).filter(
        (entry) => entry.action === 'keys.rotate',
      );
      assert.equal(rotations.length, 2, 'the first scheduled rotation and one more');
    } finally {
      await other.close();
    }
  });
});
