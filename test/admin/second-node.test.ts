import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { clientCredentials, introspect, jwtSignedWith, revoke, type Credentials } from '../support/oauth.js';
import { readFileSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import path from 'node:path';
import { freePort, spawnTessera, TEST_CERTS_DIR, type TesseraProcess } from '../support/process.js';
import { testMongo, type TestMongo, TEST_SECRETS_KEY } from '../support/mongo.js';
import { deleteByPrefix, TEST_REDIS_URL, testRedis } from '../support/redis.js';
import { tempDir } from '../support/tessera.js';
import { identityOf, send } from '../support/tls.js';

// This file's own Redis database, emptied of Tessera's keys afterwards.
const REDIS_URL = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/6`;

describe('admin changes on one node, seen by another on the same stores', () => {
  const data = tempDir();
  const admin: Credentials = {
    clientId: 'tessera-admin',
    secret: 'second-node-admin-secret-0123456789abcdef',
  };
  const used: string[] = [admin.secret];
  let mongo: TestMongo;
  let a: TesseraProcess;
  let b: TesseraProcess;
  let adminToken: string;
  // Each node has its own mTLS port; both share the client CA (the same TESSERA_CERTS_DIR).
  let mtlsA: string;
  let mtlsB: string;

  before(async () => {
    mongo = await testMongo('second_node');
    const env = {
      TESSERA_DATA_DIR: data.dir,
      REDIS_URL,
      MONGODB_URI: mongo.uri,
      TESSERA_SECRETS_KEY: TEST_SECRETS_KEY,
      TESSERA_ADMIN_CLIENT_SECRET: admin.secret,
      // One deployment, one issuer: what JWT access tokens name and are checked against.
      ISSUER: 'http://auth.tessera.test',
    };
    const [portA, portB] = [await freePort(), await freePort()];
    a = await spawnTessera({ ...env, MTLS_PORT: String(portA) });
    b = await spawnTessera({ ...env, MTLS_PORT: String(portB) });
    mtlsA = `https://localhost:${portA}`;
    mtlsB = `https://localhost:${portB}`;
    adminToken = await tokenFor(a.url, admin);
    used.push(adminToken);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await deleteByPrefix(REDIS_URL, 'tessera:');
    await mongo?.dispose();
    data.remove();
  });

  const register = async (name: string): Promise<Credentials> => {
    const res = await api(a.url, adminToken, 'POST', '/clients', { client_name: name, scope: 'api:read' });
    assert.equal(res.status, 201);
    const creds = {
      clientId: String((res.body.client as { client_id: string }).client_id),
      secret: String(res.body.client_secret),
    };
    used.push(creds.secret);
    return creds;
  };

  it('refuses a rotated secret on the other node at once, while issued tokens live on', async () => {
    const creds = await register('rotating');
    const issued = await clientCredentials(b.url, creds);
    assert.equal(issued.status, 200);
    const token = String(issued.body.access_token);
    used.push(token);

    const rotated = await api(a.url, adminToken, 'POST', `/clients/${creds.clientId}/secret`);
    const fresh = String(rotated.body.client_secret);
    used.push(fresh);
    const old = await clientCredentials(b.url, creds);
    assert.equal(old.status, 401);
    assert.equal(old.body.error, 'invalid_client');
    const renewed = await clientCredentials(b.url, { ...creds, secret: fresh });
    assert.equal(renewed.status, 200);
    used.push(String(renewed.body.access_token));
    assert.equal((await introspect(b.url, admin, token)).body.active, true);
  });

  it('keeps the previous secret working on the other node during an overlap, and ends it there at once', async () => {
    const creds = await register('overlapping');
    assert.equal((await clientCredentials(b.url, creds)).status, 200, 'verified and cached on b');
    const rotated = await api(a.url, adminToken, 'POST', `/clients/${creds.clientId}/secret`, {
      previous_secret_expires_in: 3600,
    });
    assert.equal(rotated.status, 200);
    const fresh = String(rotated.body.client_secret);
    used.push(fresh);
    assert.equal((await clientCredentials(b.url, creds)).status, 200, 'the old secret still works on b');
    assert.equal((await clientCredentials(b.url, { ...creds, secret: fresh })).status, 200);
    const ended = await api(a.url, adminToken, 'DELETE', `/clients/${creds.clientId}/secret/previous`);
    assert.equal(ended.status, 204);
    const old = await clientCredentials(b.url, creds);
    assert.deepEqual(
      [old.status, old.body.error],
      [401, 'invalid_client'],
      'refused on b from the next request',
    );
    assert.equal((await clientCredentials(b.url, { ...creds, secret: fresh })).status, 200);
  });

  it('refuses a deleted secret on the other node at once, though cached there, and keeps the others', async () => {
    const creds = await register('several secrets');
    const added = await api(a.url, adminToken, 'POST', `/clients/${creds.clientId}/secrets`, {
      label: 'second',
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const second = { ...creds, secret: String(added.body.client_secret) };
    used.push(second.secret);
    assert.equal((await clientCredentials(b.url, creds)).status, 200, 'the first verified and cached on b');
    assert.equal((await clientCredentials(b.url, second)).status, 200, 'the second too');
    const listed = await api(b.url, adminToken, 'GET', `/clients/${creds.clientId}/secrets`);
    const first = (listed.body.data as { id: string; label: string | null }[]).find((s) => s.label === null)!;
    const deleted = await api(a.url, adminToken, 'DELETE', `/clients/${creds.clientId}/secrets/${first.id}`);
    assert.equal(deleted.status, 204);
    const refused = await clientCredentials(b.url, creds);
    assert.deepEqual([refused.status, refused.body.error], [401, 'invalid_client'], 'refused on b at once');
    assert.equal((await clientCredentials(b.url, second)).status, 200, 'the other secret works on b');
  });

  it('keeps the signing and cookie keys sealed in MongoDB, under TESSERA_SECRETS_KEY', async () => {
    const client = new MongoClient(mongo.uri);
    try {
      const values = await client.db().collection('secret_values').find().toArray();
      assert.deepEqual(values.map((value) => value.name).sort(), ['cookie-keys', 'jwks']);
      for (const { value } of values) {
        assert.equal((value as { sealed?: string }).sealed, 'A256GCM');
        assert.doesNotMatch(JSON.stringify(value), /"(d|p|q|dp|dq|qi|keys)"/);
      }
    } finally {
      await client.close();
    }
  });

  it('issues JWTs for a resource server made on the other node, and revokes them everywhere', async () => {
    const made = await api(a.url, adminToken, 'POST', '/resources', {
      identifier: 'https://orders.example.com',
      name: 'Orders',
      scope: 'api:read',
      access_token_format: 'jwt',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const creds = await register('jwt on mongo');
    const issued = await clientCredentials(b.url, creds, { resource: 'https://orders.example.com' });
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const token = String(issued.body.access_token);
    used.push(token);
    assert.equal(token.split('.').length, 3, 'a JWT');
    const info = await introspect(a.url, admin, token);
    assert.deepEqual([info.body.active, info.body.aud], [true, 'https://orders.example.com']);
    assert.equal((await revoke(b.url, creds, token)).status, 200);
    assert.deepEqual((await introspect(a.url, admin, token)).body, { active: false });
    const unknown = await clientCredentials(b.url, creds, { resource: 'https://nowhere.example.com' });
    assert.deepEqual([unknown.status, unknown.body.error], [400, 'invalid_target']);
  });

  it('signs with a key rotated on the other node within a second, and still accepts the older tokens', async () => {
    const creds = await register('jwt across a rotation');
    const resource = { resource: 'https://orders.example.com' };
    const before = String((await clientCredentials(b.url, creds, resource)).body.access_token);
    used.push(before);
    const rotated = await api(a.url, adminToken, 'POST', '/keys/rotate');
    assert.equal(rotated.status, 201);
    const after = await jwtSignedWith(b.url, creds, resource.resource, String(rotated.body.kid));
    used.push(after);
    const kidOf = (token: string) =>
      (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    for (const node of [a, b]) {
      const { keys } = (await (await fetch(`${node.url}/oauth/jwks`)).json()) as { keys: { kid: string }[] };
      const kids = keys.map((key) => key.kid);
      assert.ok(kids.includes(kidOf(before)) && kids.includes(kidOf(after)));
      assert.equal((await introspect(node.url, admin, before)).body.active, true);
      assert.equal((await introspect(node.url, admin, after)).body.active, true);
    }
  });

  it('refuses a disabled client on the other node, and its tokens read inactive there', async () => {
    const creds = await register('disabled elsewhere');
    const token = String((await clientCredentials(b.url, creds)).body.access_token);
    used.push(token);
    await api(a.url, adminToken, 'PATCH', `/clients/${creds.clientId}`, { disabled: true });
    assert.equal((await clientCredentials(b.url, creds)).status, 401);
    assert.deepEqual((await introspect(b.url, admin, token)).body, { active: false });
  });

  it('refuses a client whose service user was disabled on the other node at once', async () => {
    const user = await api(a.url, adminToken, 'POST', '/users', {
      username: 'robot-owner',
      password: 'robot owner password',
      role: 'member',
    });
    assert.equal(user.status, 201);
    const res = await api(a.url, adminToken, 'POST', '/clients', {
      client_name: 'acting as a user',
      scope: 'api:read',
      service_user_id: user.body.id,
    });
    const creds = {
      clientId: String((res.body.client as { client_id: string }).client_id),
      secret: String(res.body.client_secret),
    };
    used.push(creds.secret);
    assert.equal((await clientCredentials(b.url, creds)).status, 200);
    assert.equal((await clientCredentials(b.url, creds)).status, 200, 'remembered on b');
    await api(a.url, adminToken, 'PATCH', `/users/${String(user.body.id)}`, { disabled: true });
    assert.equal((await clientCredentials(b.url, creds)).status, 401);
  });

  it('revokes everything of a deleted client on the other node at once', async () => {
    const creds = await register('deleted elsewhere');
    const tokens = [];
    for (const node of [a, b])
      tokens.push(String((await clientCredentials(node.url, creds)).body.access_token));
    used.push(...tokens);
    assert.equal((await api(a.url, adminToken, 'DELETE', `/clients/${creds.clientId}`)).status, 204);
    const { client: redis } = await testRedis(REDIS_URL, 'tessera:');
    try {
      for (const token of tokens) {
        // Left in Redis to expire, and refused because its client is gone.
        assert.equal(await redis.exists(`ClientCredentials:${token}`), 1);
        assert.deepEqual((await introspect(b.url, admin, token)).body, { active: false });
      }
    } finally {
      redis.disconnect();
    }
    assert.equal((await clientCredentials(b.url, creds)).status, 401);
    assert.equal((await api(b.url, adminToken, 'GET', `/clients/${creds.clientId}`)).status, 404);
  });

  it('accepts a certificate issued on one node at the other, and refuses it there once revoked', async () => {
    const created = await api(a.url, adminToken, 'POST', '/clients', {
      client_name: 'certificate elsewhere',
      token_endpoint_auth_method: 'tls_client_auth',
      scope: 'api:read',
      issue_certificate: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const clientId = String((created.body.client as { client_id: string }).client_id);
    const certificate = created.body.certificate as Record<string, unknown>;
    used.push(String(certificate.private_key_pem).split('\n')[1]!);
    const ca = readFileSync(path.join(TEST_CERTS_DIR, 'server/cert.pem'), 'utf8');
    const token = (base: string) =>
      send(`${base}/oauth/token`, {
        form: { grant_type: 'client_credentials', client_id: clientId },
        identity: identityOf(certificate),
        ca,
      });
    const onB = await token(mtlsB);
    assert.equal(onB.status, 200, JSON.stringify(onB.body));
    used.push(String(onB.body.access_token));

    const revoked = await api(
      a.url,
      adminToken,
      'DELETE',
      `/clients/${clientId}/certificate/${String(certificate.serial)}`,
    );
    assert.equal(revoked.status, 204);
    for (const base of [mtlsB, mtlsA]) {
      const refused = await token(base);
      assert.equal(refused.status, 401, base);
      assert.equal(refused.body.error, 'invalid_client');
    }
  });

  it('never logged a secret or token it handled, on either node', async () => {
    const output = [a, b].map((node) => node.stdout() + node.stderr()).join('\n');
    assert.ok(
      output.split('\n').filter((line) => line.includes('"msg":"request"')).length >= 20,
      'requests were logged',
    );
    for (const secret of used)
      assert.ok(!output.includes(secret), `log output contains ${secret.slice(0, 6)}...`);
  });
});
