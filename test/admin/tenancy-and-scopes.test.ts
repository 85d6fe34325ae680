import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { clientCredentials, introspect, type Credentials } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

describe('admin API: accounts, tenant isolation and scopes', () => {
  let tessera: RunningTessera;
  let root: string;
  let acme: { id: string; admin: Credentials; token: string };

  before(async () => {
    tessera = await startTessera();
    root = await tokenFor(tessera.url);
    const created = await api(tessera, root, 'POST', '/accounts', { name: 'Acme', max_clients: 3 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const account = created.body.account as { id: string };
    const adminClient = created.body.admin_client as { client_id: string; client_secret: string };
    const admin = { clientId: adminClient.client_id, secret: adminClient.client_secret };
    acme = { id: account.id, admin, token: await tokenFor(tessera.url, admin) };
  });
  after(async () => tessera.close());

  it('creates a tenant with its own admin client, shown once', async () => {
    const read = await api(tessera, root, 'GET', `/accounts/${acme.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(Object.keys(read.body).sort(), [
      'created_at',
      'id',
      'max_clients',
      'name',
      'updated_at',
    ]);
    assert.equal(read.body.name, 'Acme');
    assert.equal(read.body.max_clients, 3);
    const adminView = await api(tessera, acme.token, 'GET', `/clients/${acme.admin.clientId}`);
    assert.equal(adminView.body.account_id, acme.id);
    assert.equal(adminView.body.scope, 'admin');
    assert.ok(!JSON.stringify(adminView.body).includes(acme.admin.secret));
    const listed = await api(tessera, root, 'GET', '/accounts?limit=100');
    assert.ok((listed.body.data as { id: string }[]).some((a) => a.id === acme.id));
    assert.ok(
      (listed.body.data as { id: string }[]).some((a) => a.id === 'default'),
      'every account, default included',
    );
    const patched = await api(tessera, root, 'PATCH', `/accounts/${acme.id}`, { name: 'Acme Inc' });
    assert.equal(patched.body.name, 'Acme Inc');
  });

  it("never shows, changes or confirms another account's clients: 404 both ways", async () => {
    const ours = await api(tessera, root, 'POST', '/clients', { client_name: 'root-only' });
    const ourId = String((ours.body.client as { client_id: string }).client_id);
    const theirs = await api(tessera, acme.token, 'POST', '/clients', { client_name: 'acme-only' });
    assert.equal(theirs.status, 201);
    const theirId = String((theirs.body.client as { client_id: string }).client_id);
    assert.equal((theirs.body.client as { account_id: string }).account_id, acme.id);

    for (const [token, id] of [
      [acme.token, ourId],
      [root, theirId],
    ] as const) {
      for (const [method, path, body] of [
        ['GET', `/clients/${id}`, undefined],
        ['PATCH', `/clients/${id}`, { description: 'hijacked' }],
        ['POST', `/clients/${id}/secret`, undefined],
        ['DELETE', `/clients/${id}`, undefined],
      ] as const) {
        const res = await api(tessera, token, method, path, body);
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.deepEqual(res.body, { error: 'not_found', error_description: 'no such client' });
      }
      const missing = await api(tessera, token, 'GET', '/clients/does-not-exist');
      assert.deepEqual(missing.body, { error: 'not_found', error_description: 'no such client' });
    }
    assert.equal((await api(tessera, root, 'GET', `/clients/${ourId}`)).body.description, '');
    const acmeList = (await api(tessera, acme.token, 'GET', '/clients?limit=100')).body.data as {
      account_id: string;
    }[];
    assert.ok(acmeList.length >= 2 && acmeList.every((c) => c.account_id === acme.id));
    const acmeAudit = (await api(tessera, acme.token, 'GET', '/audit?limit=100')).body.data as {
      target: string;
    }[];
    assert.ok(acmeAudit.every((e) => e.target !== `client:${ourId}`));
  });

  it('caps clients per account with 409 limit_exceeded, changing nothing', async () => {
    const before = (await api(tessera, acme.token, 'GET', '/clients?limit=100')).body.data as unknown[];
    for (let i = before.length; i < 3; i += 1) {
      assert.equal(
        (await api(tessera, acme.token, 'POST', '/clients', { client_name: `fill-${i}` })).status,
        201,
      );
    }
    const over = await api(tessera, acme.token, 'POST', '/clients', { client_name: 'one-too-many' });
    assert.equal(over.status, 409);
    assert.deepEqual(over.body, {
      error: 'limit_exceeded',
      error_description: 'the account may hold at most 3 clients',
    });
    assert.equal(
      ((await api(tessera, acme.token, 'GET', '/clients?limit=100')).body.data as unknown[]).length,
      3,
    );
  });

  it('holds the cap when creates race', async () => {
    const created = await api(tessera, root, 'POST', '/accounts', { name: 'Racy', max_clients: 2 });
    const adminClient = created.body.admin_client as { client_id: string; client_secret: string };
    const racy = await tokenFor(tessera.url, {
      clientId: adminClient.client_id,
      secret: adminClient.client_secret,
    });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api(tessera, racy, 'POST', '/clients', { client_name: `racer-${i}` }),
      ),
    );
    assert.ok(results.every((r) => r.status === 201 || r.status === 409));
    const listed = (await api(tessera, racy, 'GET', '/clients?limit=100')).body.data as unknown[];
    assert.ok(listed.length <= 2, `${listed.length} clients for a cap of 2`);
  });

  it('answers an unknown admin path with 404 not_found', async () => {
    const res = await api(tessera, root, 'GET', '/nothing/here');
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: 'not_found', error_description: 'no such endpoint' });
  });

  it('reserves accounts:admin to account default', async () => {
    const res = await api(tessera, acme.token, 'PATCH', `/clients/${acme.admin.clientId}`, {
      scope: 'admin accounts:admin',
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'invalid_client_metadata',
      error_description: 'scope "accounts:admin" is reserved to clients of account default',
    });
    const denied = await api(tessera, acme.token, 'GET', '/accounts');
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error, 'insufficient_scope');
  });

  it('checks each scope: read, write, audit and accounts', async () => {
    const scoped = async (scope: string): Promise<string> => {
      const created = await api(tessera, root, 'POST', '/clients', { client_name: `scoped ${scope}`, scope });
      const creds = credentialsOf(created);
      return tokenFor(tessera.url, creds);
    };
    const reader = await scoped('clients:read');
    const writer = await scoped('clients:write');
    const userAdmin = await scoped('users:read users:write');

    assert.equal((await api(tessera, reader, 'GET', '/clients')).status, 200);
    const readerWrites = await api(tessera, reader, 'POST', '/clients', { client_name: 'nope' });
    assert.equal(readerWrites.status, 403);
    assert.deepEqual(readerWrites.body, {
      error: 'insufficient_scope',
      error_description: 'this call needs one of the scopes: admin clients:write',
    });
    assert.match(readerWrites.headers.get('www-authenticate')!, /^Bearer error="insufficient_scope"/);
    assert.equal((await api(tessera, writer, 'POST', '/clients', { client_name: 'by writer' })).status, 201);
    assert.equal((await api(tessera, writer, 'GET', '/clients')).status, 403);
    assert.equal((await api(tessera, userAdmin, 'GET', '/clients')).status, 403);
    for (const token of [reader, writer, userAdmin]) {
      assert.equal((await api(tessera, token, 'GET', '/audit')).status, 403, 'audit needs admin');
      assert.equal(
        (await api(tessera, token, 'GET', '/accounts')).status,
        403,
        'accounts need accounts:admin',
      );
    }
    assert.equal((await api(tessera, root, 'GET', '/audit')).status, 200);
  });

  it('refuses a missing, malformed, unknown or revoked bearer token with 401 invalid_token', async () => {
    const revoked = await tokenFor(tessera.url);
    await fetch(`${tessera.url}/oauth/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('tessera-admin:test-admin-secret-that-is-long-enough-0123456789').toString('base64')}`,
      },
      body: `token=${revoked}`,
    });
    const cases: [string | undefined, string][] = [
      [undefined, 'missing bearer token'],
      ['not a token!', 'malformed Authorization header'],
      ['unknown-token-value-0123456789', 'the access token is not active'],
      [revoked, 'the access token is not active'],
    ];
    for (const [token, description] of cases) {
      const res = await api(tessera, token, 'GET', '/clients');
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, { error: 'invalid_token', error_description: description });
      // RFC 6750 3.1: no error code when no credentials came at all.
      if (token === undefined) assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="tessera"');
      else assert.match(res.headers.get('www-authenticate')!, /^Bearer error="invalid_token"/);
    }
  });

  it('stops honouring the tokens of a disabled admin client at once', async () => {
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'temp admin',
      scope: 'admin',
    });
    const creds = credentialsOf(created);
    const token = await tokenFor(tessera.url, creds);
    assert.equal((await api(tessera, token, 'GET', '/clients')).status, 200);
    await api(tessera, root, 'PATCH', `/clients/${creds.clientId}`, { disabled: true });
    assert.equal((await api(tessera, token, 'GET', '/clients')).status, 401);
    assert.equal((await clientCredentials(tessera.url, creds)).status, 401);
    assert.deepEqual(
      (
        await introspect(
          tessera.url,
          { clientId: 'tessera-admin', secret: 'test-admin-secret-that-is-long-enough-0123456789' },
          token,
        )
      ).body,
      { active: false },
    );
  });
});
