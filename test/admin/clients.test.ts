import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { ADMIN, clientCredentials, introspect, type Credentials } from '../support/oauth.js';
import { registerMachine, startTessera, type RunningTessera } from '../support/tessera.js';

const VIEW_KEYS = [
  'access_token_ttl',
  'account_id',
  'application_type',
  'backchannel_logout_uri',
  'certificates',
  'client_id',
  'client_name',
  'client_type',
  'created_at',
  'description',
  'disabled',
  'first_party',
  'grant_types',
  'last_used_at',
  'post_logout_redirect_uris',
  'previous_secret_expires_at',
  'redirect_uris',
  'require_consent',
  'scope',
  'service_user_id',
  'tls_client_certificate_bound_access_tokens',
  'token_endpoint_auth_method',
  'updated_at',
];

describe('admin API: client lifecycle', () => {
  let tessera: RunningTessera;
  let token: string;

  before(async () => {
    tessera = await startTessera();
    token = await tokenFor(tessera.url);
  });
  after(async () => tessera.close());

  it('creates, reads, changes, rotates, disables, enables and deletes a client, auditing each step', async () => {
    const created = await api(tessera, token, 'POST', '/clients', {
      client_name: 'billing worker',
      description: 'nightly billing',
      scope: 'api:read',
      access_token_ttl: 600,
    });
    assert.equal(created.status, 201);
    const client = created.body.client as Record<string, unknown>;
    const clientId = String(client.client_id);
    assert.equal(created.headers.get('location'), `/admin/api/clients/${clientId}`);
    assert.deepEqual(Object.keys(client).sort(), VIEW_KEYS);
    assert.deepEqual(
      { ...client, client_id: 'x', created_at: 'x', updated_at: 'x' },
      {
        client_id: 'x',
        client_name: 'billing worker',
        description: 'nightly billing',
        account_id: 'default',
        client_type: 'confidential',
        application_type: 'web',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        post_logout_redirect_uris: [],
        backchannel_logout_uri: null,
        scope: 'api:read',
        token_endpoint_auth_method: 'client_secret_basic',
        tls_client_certificate_bound_access_tokens: false,
        access_token_ttl: 600,
        service_user_id: null,
        certificates: [],
        first_party: false,
        require_consent: true,
        previous_secret_expires_at: null,
        disabled: false,
        created_at: 'x',
        updated_at: 'x',
        last_used_at: null,
      },
    );
    const secret = String(created.body.client_secret);
    assert.ok(Buffer.from(secret, 'base64url').length >= 32);
    const creds: Credentials = { clientId, secret };

    const first = await clientCredentials(tessera.url, creds);
    assert.equal(first.status, 200);
    assert.equal(first.body.expires_in, 600);
    const firstToken = String(first.body.access_token);

    const read = await api(tessera, token, 'GET', `/clients/${clientId}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, client);
    assert.ok(!JSON.stringify(read.body).includes(secret));

    const patched = await api(tessera, token, 'PATCH', `/clients/${clientId}`, {
      scope: 'api:read api:write',
      access_token_ttl: 120,
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.scope, 'api:read api:write');
    assert.equal(patched.body.access_token_ttl, 120);
    const afterPatch = await clientCredentials(tessera.url, creds);
    assert.equal(afterPatch.body.scope, 'api:read api:write');
    assert.equal(afterPatch.body.expires_in, 120);
    const firstInfo = await introspect(tessera.url, ADMIN, firstToken);
    assert.equal(firstInfo.body.scope, 'api:read', 'earlier tokens keep what they were issued with');
    assert.equal(Number(firstInfo.body.exp) - Number(firstInfo.body.iat), 600);

    const rotated = await api(tessera, token, 'POST', `/clients/${clientId}/secret`);
    assert.equal(rotated.status, 200);
    assert.deepEqual(Object.keys(rotated.body), ['client_secret']);
    const newSecret = String(rotated.body.client_secret);
    assert.notEqual(newSecret, secret);
    assert.equal((await clientCredentials(tessera.url, creds)).status, 401, 'the old secret fails at once');
    assert.equal((await clientCredentials(tessera.url, { clientId, secret: newSecret })).status, 200);
    assert.equal(
      (await introspect(tessera.url, ADMIN, firstToken)).body.active,
      true,
      'issued tokens live on',
    );

    const disabled = await api(tessera, token, 'PATCH', `/clients/${clientId}`, { disabled: true });
    assert.equal(disabled.body.disabled, true);
    const refused = await clientCredentials(tessera.url, { clientId, secret: newSecret });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error, 'invalid_client');
    assert.deepEqual((await introspect(tessera.url, ADMIN, firstToken)).body, { active: false });
    // The record is still stored; the provider refuses every record of a client that is not current.
    assert.ok(await tessera.container.tokenStore.adapter('ClientCredentials').find(firstToken));
    assert.equal(await tessera.container.provider.ClientCredentials.find(firstToken), undefined);

    await api(tessera, token, 'PATCH', `/clients/${clientId}`, { disabled: false });
    assert.ok(await tessera.container.provider.ClientCredentials.find(firstToken));
    assert.equal(
      (await introspect(tessera.url, ADMIN, firstToken)).body.active,
      true,
      'active again once enabled',
    );
    const live = String(
      (await clientCredentials(tessera.url, { clientId, secret: newSecret })).body.access_token,
    );

    const deleted = await api(tessera, token, 'DELETE', `/clients/${clientId}`);
    assert.equal(deleted.status, 204);
    assert.equal((await api(tessera, token, 'GET', `/clients/${clientId}`)).status, 404);
    for (const t of [firstToken, live])
      assert.deepEqual((await introspect(tessera.url, ADMIN, t)).body, { active: false });
    assert.equal(
      await tessera.container.tokenStore.adapter('ClientCredentials').find(live),
      undefined,
      'revoked in the store',
    );
    assert.equal((await clientCredentials(tessera.url, { clientId, secret: newSecret })).status, 401);

    const log = await api(tessera, token, 'GET', '/audit?limit=100');
    assert.equal(log.status, 200);
    const mine = (log.body.data as Record<string, unknown>[]).filter(
      (e) => e.target === `client:${clientId}`,
    );
    assert.deepEqual(mine.map((e) => e.action).reverse(), [
      'client.create',
      'client.update',
      'client.secret.rotate',
      'client.disable',
      'client.enable',
      'client.delete',
    ]);
    for (const entry of mine) {
      assert.equal(entry.actor, 'client:tessera-admin');
      assert.deepEqual(Object.keys(entry).sort(), ['action', 'actor', 'at', 'details', 'target']);
    }
    const everything = JSON.stringify(log.body);
    assert.ok(
      !everything.includes(secret) && !everything.includes(newSecret) && !everything.includes('$argon2'),
    );
    const logged = tessera.logs.join('\n');
    for (const value of [secret, newSecret, firstToken, live, token]) {
      assert.ok(!logged.includes(value), `log output contains ${value.slice(0, 6)}...`);
    }
  });

  it('lists newest first, pages with a cursor, and searches by name', async () => {
    for (const name of ['list-a', 'list-b', 'list-c']) {
      assert.equal((await api(tessera, token, 'POST', '/clients', { client_name: name })).status, 201);
    }
    const page = await api(tessera, token, 'GET', '/clients?q=list-&limit=2');
    assert.equal(page.status, 200);
    assert.deepEqual(
      (page.body.data as { client_name: string }[]).map((c) => c.client_name),
      ['list-c', 'list-b'],
    );
    const next = await api(
      tessera,
      token,
      'GET',
      `/clients?q=list-&limit=2&cursor=${encodeURIComponent(String(page.body.next_cursor))}`,
    );
    assert.deepEqual(
      (next.body.data as { client_name: string }[]).map((c) => c.client_name),
      ['list-a'],
    );
    assert.equal(next.body.next_cursor, null);
    assert.ok(
      !JSON.stringify(page.body).includes('"client_secret"') &&
        !JSON.stringify(page.body).includes('$argon2'),
    );
    const bad = await api(tessera, token, 'GET', '/clients?cursor=garbage');
    assert.deepEqual(bad.body, { error: 'invalid_request', error_description: 'cursor is not valid' });
    assert.equal((await api(tessera, token, 'GET', '/clients?limit=0')).status, 400);
  });

  it('filters the list by grant type and status, and the audit log by target', async () => {
    const web = await api(tessera, token, 'POST', '/clients', {
      client_name: 'filter-web',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example.com/cb'],
    });
    const off = await api(tessera, token, 'POST', '/clients', { client_name: 'filter-off' });
    const offId = (off.body.client as { client_id: string }).client_id;
    await api(tessera, token, 'PATCH', `/clients/${offId}`, { disabled: true });
    const names = async (query: string) =>
      (
        (await api(tessera, token, 'GET', `/clients?q=filter-&${query}`)).body.data as {
          client_name: string;
        }[]
      ).map((c) => c.client_name);
    assert.deepEqual(await names('grant_type=authorization_code'), ['filter-web']);
    assert.deepEqual(await names('grant_type=client_credentials'), ['filter-off']);
    assert.deepEqual(await names('disabled=true'), ['filter-off']);
    assert.deepEqual(await names('disabled=false'), ['filter-web']);
    assert.deepEqual(await names('grant_type=client_credentials&disabled=false'), []);
    for (const [query, description] of [
      [
        'grant_type=implicit',
        'grant_type must be one of authorization_code, refresh_token, client_credentials',
      ],
      ['disabled=yes', 'disabled must be true or false'],
    ]) {
      assert.deepEqual((await api(tessera, token, 'GET', `/clients?${query}`)).body, {
        error: 'invalid_request',
        error_description: description,
      });
    }

    const audit = await api(tessera, token, 'GET', `/audit?target=${encodeURIComponent(`client:${offId}`)}`);
    assert.deepEqual(
      (audit.body.data as { action: string; target: string }[]).map((e) => [e.action, e.target]),
      [
        ['client.disable', `client:${offId}`],
        ['client.create', `client:${offId}`],
      ],
    );
    assert.equal(web.status, 201);
    assert.deepEqual((await api(tessera, token, 'GET', '/audit?target=')).body, {
      error: 'invalid_request',
      error_description: 'target must be given once',
    });
  });

  it('registers a public authorization-code client without a secret', async () => {
    const res = await api(tessera, token, 'POST', '/clients', {
      client_name: 'spa',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [
        'https://app.example.com/callback',
        'http://127.0.0.1:8080/cb',
        'com.example.app:/oauth',
      ],
      scope: 'openid profile',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.client_secret, undefined);
    assert.equal((res.body.client as { client_type: string }).client_type, 'public');
  });

  it('keeps names unique per account: 409 conflict, on create and on rename', async () => {
    assert.equal((await api(tessera, token, 'POST', '/clients', { client_name: 'unique-one' })).status, 201);
    const dup = await api(tessera, token, 'POST', '/clients', { client_name: 'Unique-One' });
    assert.equal(dup.status, 409);
    assert.deepEqual(dup.body, {
      error: 'conflict',
      error_description: 'a client with this client_name exists in the account',
    });
    const other = await api(tessera, token, 'POST', '/clients', { client_name: 'unique-two' });
    const id = String((other.body.client as { client_id: string }).client_id);
    const rename = await api(tessera, token, 'PATCH', `/clients/${id}`, { client_name: 'unique-one' });
    assert.equal(rename.status, 409);
    assert.equal((await api(tessera, token, 'GET', `/clients/${id}`)).body.client_name, 'unique-two');
  });

  it('has no secret to rotate for a public client', async () => {
    const res = await api(tessera, token, 'POST', '/clients', {
      client_name: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['com.example.native:/cb'],
    });
    const id = String((res.body.client as { client_id: string }).client_id);
    const rotate = await api(tessera, token, 'POST', `/clients/${id}/secret`);
    assert.equal(rotate.status, 400);
    assert.equal(rotate.body.error, 'invalid_request');
  });

  it('records last_used_at', async () => {
    const creds = await registerMachine(tessera, { client_name: 'used' });
    assert.equal((await api(tessera, token, 'GET', `/clients/${creds.clientId}`)).body.last_used_at, null);
    await clientCredentials(tessera.url, creds);
    await tessera.container.flushUsage();
    const seen = (await api(tessera, token, 'GET', `/clients/${creds.clientId}`)).body.last_used_at;
    assert.match(String(seen), /^\d{4}-\d\d-\d\dT/);
  });
});
