import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

type Case = [label: string, body: unknown, error: string];

const BAD_CREATE: Case[] = [
  ['no body', undefined, 'invalid_request'],
  ['not JSON', '{"client_name": ', 'invalid_request'],
  ['an array', [], 'invalid_request'],
  ['missing client_name', {}, 'invalid_client_metadata'],
  ['empty client_name', { client_name: '   ' }, 'invalid_client_metadata'],
  ['client_name too long', { client_name: 'x'.repeat(101) }, 'invalid_client_metadata'],
  ['client_name not a string', { client_name: { $gt: '' } }, 'invalid_client_metadata'],
  ['unknown field', { client_name: 'a', client_secret: 'mine' }, 'invalid_client_metadata'],
  ['another unknown field', { client_name: 'a', is_admin: true }, 'invalid_client_metadata'],
  ['description not a string', { client_name: 'a', description: 5 }, 'invalid_client_metadata'],
  ['unknown grant type', { client_name: 'a', grant_types: ['password'] }, 'invalid_client_metadata'],
  ['empty grant types', { client_name: 'a', grant_types: [] }, 'invalid_client_metadata'],
  [
    'refresh without code',
    { client_name: 'a', grant_types: ['client_credentials', 'refresh_token'] },
    'invalid_client_metadata',
  ],
  [
    'unknown auth method',
    { client_name: 'a', token_endpoint_auth_method: 'client_secret_jwt' },
    'invalid_client_metadata',
  ],
  [
    'public client credentials',
    { client_name: 'a', token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] },
    'invalid_client_metadata',
  ],
  ['unknown scope', { client_name: 'a', scope: 'api:read root' }, 'invalid_client_metadata'],
  ['scope not a string', { client_name: 'a', scope: ['api:read'] }, 'invalid_client_metadata'],
  ['ttl below 60', { client_name: 'a', access_token_ttl: 59 }, 'invalid_client_metadata'],
  ['ttl above max', { client_name: 'a', access_token_ttl: 86401 }, 'invalid_client_metadata'],
  ['ttl fractional', { client_name: 'a', access_token_ttl: 90.5 }, 'invalid_client_metadata'],
  ['ttl as string', { client_name: 'a', access_token_ttl: '600' }, 'invalid_client_metadata'],
  ['first_party as string', { client_name: 'a', first_party: 'yes' }, 'invalid_client_metadata'],
  ['unknown service user', { client_name: 'a', service_user_id: 'nobody' }, 'invalid_client_metadata'],
  [
    'private_key_jwt without jwks',
    { client_name: 'a', token_endpoint_auth_method: 'private_key_jwt' },
    'invalid_client_metadata',
  ],
  [
    'code without redirect',
    { client_name: 'a', grant_types: ['authorization_code'] },
    'invalid_redirect_uri',
  ],
  [
    'http redirect',
    { client_name: 'a', grant_types: ['authorization_code'], redirect_uris: ['http://app.example.com/cb'] },
    'invalid_redirect_uri',
  ],
  [
    'relative redirect',
    { client_name: 'a', grant_types: ['authorization_code'], redirect_uris: ['/cb'] },
    'invalid_redirect_uri',
  ],
  [
    'redirect with fragment',
    { client_name: 'a', grant_types: ['authorization_code'], redirect_uris: ['https://a.example/cb#x'] },
    'invalid_redirect_uri',
  ],
  [
    'javascript redirect',
    { client_name: 'a', grant_types: ['authorization_code'], redirect_uris: ['javascript:alert(1)'] },
    'invalid_redirect_uri',
  ],
  [
    'private-use scheme for a web client',
    {
      client_name: 'a',
      application_type: 'web',
      grant_types: ['authorization_code'],
      redirect_uris: ['com.example.app:/cb'],
    },
    'invalid_redirect_uri',
  ],
];

describe('admin API: bad input', () => {
  let tessera: RunningTessera;
  let token: string;
  let target: Record<string, unknown>;

  before(async () => {
    tessera = await startTessera();
    token = await tokenFor(tessera.url);
    target = (await api(tessera, token, 'POST', '/clients', { client_name: 'target', scope: 'api:read' }))
      .body.client as Record<string, unknown>;
  });
  after(async () => tessera.close());

  const snapshot = async () => ({
    clients: (await api(tessera, token, 'GET', '/clients?limit=100')).body,
    audit: ((await api(tessera, token, 'GET', '/audit?limit=100')).body.data as unknown[]).length,
  });

  it('refuses every bad create with a 400 in the contract shape, and stores nothing', async () => {
    const before = await snapshot();
    for (const [label, body, error] of BAD_CREATE) {
      const res = await api(tessera, token, 'POST', '/clients', body);
      assert.equal(res.status, 400, label);
      assert.deepEqual(Object.keys(res.body).sort(), ['error', 'error_description'], label);
      assert.equal(res.body.error, error, `${label}: ${JSON.stringify(res.body)}`);
      assert.ok(String(res.body.error_description).length > 5, label);
    }
    assert.deepEqual(await snapshot(), before);
  });

  it('names the unknown fields it refuses', async () => {
    const res = await api(tessera, token, 'POST', '/clients', {
      client_name: 'a',
      secret_hash: 'x',
      owner: 'y',
    });
    assert.deepEqual(res.body, {
      error: 'invalid_client_metadata',
      error_description: 'unknown fields: secret_hash, owner',
    });
  });

  it('refuses every bad change with a 400, and changes nothing', async () => {
    const before = await snapshot();
    const patches: [unknown, string][] = [
      [{ client_name: '' }, 'invalid_client_metadata'],
      [{ scope: 'made:up' }, 'invalid_client_metadata'],
      [{ access_token_ttl: 10 }, 'invalid_client_metadata'],
      [{ disabled: 'true' }, 'invalid_client_metadata'],
      [{ client_id: 'renamed' }, 'invalid_client_metadata'],
      [{ account_id: 'acme' }, 'invalid_client_metadata'],
      [{ token_endpoint_auth_method: 'client_secret_post' }, 'invalid_client_metadata'],
      [{ grant_types: ['authorization_code'] }, 'invalid_redirect_uri'],
      [{ redirect_uris: ['ftp://x'] }, 'invalid_redirect_uri'],
      ['[1,2', 'invalid_request'],
    ];
    for (const [patch, error] of patches) {
      const res = await api(tessera, token, 'PATCH', `/clients/${String(target.client_id)}`, patch);
      assert.equal(res.status, 400, JSON.stringify(patch));
      assert.equal(res.body.error, error, `${JSON.stringify(patch)}: ${JSON.stringify(res.body)}`);
    }
    assert.deepEqual((await api(tessera, token, 'GET', `/clients/${String(target.client_id)}`)).body, target);
    assert.deepEqual(await snapshot(), before);
  });

  it('refuses bad account input with 400 invalid_request', async () => {
    for (const body of [{}, { name: '' }, { name: 'x', max_clients: 0 }, { name: 'x', plan: 'gold' }]) {
      const res = await api(tessera, token, 'POST', '/accounts', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error, 'invalid_request');
    }
  });

  it('refuses a malformed cursor or limit on every list with 400 invalid_request', async () => {
    const lists = ['/clients', '/users', '/accounts', '/audit'];
    const bad: [query: string, description: string][] = [
      ['cursor=bad', 'cursor is not valid'],
      ['cursor=', 'cursor must be a string'],
      ['limit=0', 'limit must be a whole number between 1 and 100'],
      ['limit=101', 'limit must be a whole number between 1 and 100'],
      ['limit=ten', 'limit must be a whole number between 1 and 100'],
      ['limit=-1', 'limit must be a whole number between 1 and 100'],
    ];
    for (const list of lists) {
      for (const [query, description] of bad) {
        const res = await api(tessera, token, 'GET', `${list}?${query}`);
        assert.equal(res.status, 400, `${list}?${query}`);
        assert.deepEqual(
          res.body,
          { error: 'invalid_request', error_description: description },
          `${list}?${query}`,
        );
      }
      const good = await api(tessera, token, 'GET', `${list}?limit=1`);
      assert.equal(good.status, 200, list);
    }
  });
});
