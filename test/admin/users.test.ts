import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifySecret } from '../../src/crypto/secrets.js';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { ADMIN, clientCredentials, introspect, type Credentials } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const USER_KEYS = ['created_at', 'disabled', 'email', 'id', 'role', 'updated_at', 'username'];

describe('admin API: users and service users', () => {
  let tessera: RunningTessera;
  let root: string;

  before(async () => {
    tessera = await startTessera();
    root = await tokenFor(tessera.url);
  });
  after(async () => tessera.close());

  it('creates, reads, lists, changes and deletes users, never showing a password or hash', async () => {
    const password = 'correct horse battery staple';
    const created = await api(tessera, root, 'POST', '/users', {
      username: 'alice',
      password,
      email: 'alice@example.com',
      role: 'member',
    });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), USER_KEYS);
    const id = String(created.body.id);
    assert.equal(created.headers.get('location'), `/admin/api/users/${id}`);
    assert.deepEqual(
      { ...created.body, id: 'x', created_at: 'x', updated_at: 'x' },
      {
        id: 'x',
        username: 'alice',
        email: 'alice@example.com',
        role: 'member',
        disabled: false,
        created_at: 'x',
        updated_at: 'x',
      },
    );
    const stored = await tessera.container.clientStore.getUser(id);
    assert.match(stored!.password_hash, /^\$argon2id\$/);
    assert.equal(await verifySecret(stored!.password_hash, password), true);

    assert.deepEqual((await api(tessera, root, 'GET', `/users/${id}`)).body, created.body);
    const listed = await api(tessera, root, 'GET', '/users?limit=100');
    assert.ok((listed.body.data as { id: string }[]).some((u) => u.id === id));

    const changed = await api(tessera, root, 'PATCH', `/users/${id}`, {
      role: 'admin',
      password: 'another long password',
      disabled: true,
    });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.role, 'admin');
    assert.equal(changed.body.disabled, true);
    assert.equal(
      await verifySecret(
        (await tessera.container.clientStore.getUser(id))!.password_hash,
        'another long password',
      ),
      true,
    );

    const dup = await api(tessera, root, 'POST', '/users', { username: 'ALICE', password, role: 'member' });
    assert.equal(dup.status, 409);
    assert.deepEqual(dup.body, {
      error: 'conflict',
      error_description: 'a user with this username exists in the account',
    });

    assert.equal((await api(tessera, root, 'DELETE', `/users/${id}`)).status, 204);
    assert.equal((await api(tessera, root, 'GET', `/users/${id}`)).status, 404);

    const everything = JSON.stringify([
      created.body,
      listed.body,
      changed.body,
      (await api(tessera, root, 'GET', '/audit?limit=100')).body,
    ]);
    for (const secret of [password, 'another long password', '$argon2'])
      assert.ok(!everything.includes(secret), secret);
    assert.ok(!tessera.logs.join('\n').includes(password));
  });

  it('refuses bad user input without storing anything', async () => {
    const before = ((await api(tessera, root, 'GET', '/users?limit=100')).body.data as unknown[]).length;
    for (const body of [
      {},
      { username: 'bob', password: 'short', role: 'member' },
      { username: 'bob smith', password: 'long enough password', role: 'member' },
      { username: 'bob', password: 'long enough password', role: 'owner' },
      { username: 'bob', password: 'long enough password', role: 'member', email: 'not-an-email' },
      { username: 'bob', password: 'long enough password', role: 'member', password_hash: 'x' },
      { username: { $ne: '' }, password: 'long enough password', role: 'member' },
    ]) {
      const res = await api(tessera, root, 'POST', '/users', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error, 'invalid_request');
    }
    assert.equal(
      ((await api(tessera, root, 'GET', '/users?limit=100')).body.data as unknown[]).length,
      before,
    );
    const admin = await tessera.container.clientStore.findUserByUsername('default', 'admin');
    assert.equal(
      (await api(tessera, root, 'PATCH', `/users/${admin!.id}`, { username: 'root' })).status,
      400,
    );
  });

  it("keeps users per tenant: another account's users answer 404", async () => {
    const acme = await api(tessera, root, 'POST', '/accounts', { name: 'Users Acme' });
    const adminClient = acme.body.admin_client as { client_id: string; client_secret: string };
    const acmeToken = await tokenFor(tessera.url, {
      clientId: adminClient.client_id,
      secret: adminClient.client_secret,
    });
    const theirs = await api(tessera, acmeToken, 'POST', '/users', {
      username: 'alice',
      password: 'acme password 123',
      role: 'admin',
    });
    assert.equal(theirs.status, 201, 'usernames are per account');
    const ourAdmin = await tessera.container.clientStore.findUserByUsername('default', 'admin');
    for (const [token, id] of [
      [acmeToken, ourAdmin!.id],
      [root, String(theirs.body.id)],
    ] as const) {
      assert.equal((await api(tessera, token, 'GET', `/users/${id}`)).status, 404);
      assert.equal((await api(tessera, token, 'PATCH', `/users/${id}`, { role: 'member' })).status, 404);
      assert.equal((await api(tessera, token, 'DELETE', `/users/${id}`)).status, 404);
    }
    assert.equal((await tessera.container.clientStore.findUserByUsername('default', 'admin'))!.role, 'admin');
  });

  it('needs users:read to read and users:write to change', async () => {
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'user reader',
      scope: 'users:read clients:write',
    });
    const reader = await tokenFor(tessera.url, credentialsOf(created));
    assert.equal((await api(tessera, reader, 'GET', '/users')).status, 200);
    const denied = await api(tessera, reader, 'POST', '/users', {
      username: 'x',
      password: 'long enough password',
      role: 'member',
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error, 'insufficient_scope');
  });

  it('issues service-user tokens with that user as sub, and fails the client when the user is disabled or deleted', async () => {
    const user = await api(tessera, root, 'POST', '/users', {
      username: 'svc-billing',
      password: 'service password 1',
      role: 'member',
    });
    const userId = String(user.body.id);
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'billing svc',
      scope: 'api:read',
      service_user_id: userId,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((created.body.client as { service_user_id: string }).service_user_id, userId);
    const creds: Credentials = credentialsOf(created);

    const token = String((await clientCredentials(tessera.url, creds)).body.access_token);
    const info = await introspect(tessera.url, ADMIN, token);
    assert.equal(info.body.active, true);
    assert.equal(info.body.sub, userId);

    await api(tessera, root, 'PATCH', `/users/${userId}`, { disabled: true });
    const refused = await clientCredentials(tessera.url, creds);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'invalid_client');
    assert.deepEqual((await introspect(tessera.url, ADMIN, token)).body, { active: false });

    await api(tessera, root, 'PATCH', `/users/${userId}`, { disabled: false });
    assert.equal((await clientCredentials(tessera.url, creds)).status, 200);
    await api(tessera, root, 'DELETE', `/users/${userId}`);
    assert.equal((await clientCredentials(tessera.url, creds)).status, 401);
    assert.deepEqual((await introspect(tessera.url, ADMIN, token)).body, { active: false });
  });
});
