import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminHarness, api, credentialsOf, tokenFor } from '../support/admin.js';

const VIEW_KEYS = [
  'access_token_format',
  'access_token_ttl',
  'created_at',
  'id',
  'identifier',
  'name',
  'scope',
  'updated_at',
];

describe('admin API: resource servers', () => {
  const h = adminHarness();

  const create = (body: unknown, token = h.token) => api(h.tessera, token, 'POST', '/resources', body);
  const orders = (identifier: string) => ({
    identifier,
    name: 'Orders API',
    scope: 'api:read api:write',
    access_token_format: 'jwt',
  });

  it('creates, reads, lists, changes and deletes a resource server, auditing each step', async () => {
    const created = await create({ ...orders('https://orders.example.com'), access_token_ttl: 900 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = String(created.body.id);
    assert.match(id, /^res_[A-Za-z0-9_-]{16}$/);
    assert.equal(created.headers.get('location'), `/admin/api/resources/${id}`);
    assert.deepEqual(Object.keys(created.body).sort(), VIEW_KEYS);
    assert.deepEqual(
      { ...created.body, id: 'x', created_at: 'x', updated_at: 'x' },
      {
        id: 'x',
        identifier: 'https://orders.example.com',
        name: 'Orders API',
        scope: 'api:read api:write',
        access_token_format: 'jwt',
        access_token_ttl: 900,
        created_at: 'x',
        updated_at: 'x',
      },
    );
    assert.deepEqual((await api(h.tessera, h.token, 'GET', `/resources/${id}`)).body, created.body);
    const second = await create({ ...orders('urn:example:billing'), access_token_format: 'opaque' });
    assert.equal(second.status, 201, 'a URN is an absolute URI');
    assert.equal(second.body.access_token_ttl, null);
    const list = await api(h.tessera, h.token, 'GET', '/resources?limit=1');
    assert.deepEqual(
      (list.body.data as { id: string }[]).map((r) => r.id),
      [second.body.id],
    );
    const rest = await api(
      h.tessera,
      h.token,
      'GET',
      `/resources?limit=1&cursor=${String(list.body.next_cursor)}`,
    );
    assert.deepEqual(
      (rest.body.data as { id: string }[]).map((r) => r.id),
      [id],
    );

    const patched = await api(h.tessera, h.token, 'PATCH', `/resources/${id}`, {
      name: 'Orders',
      scope: 'api:read',
      access_token_ttl: null,
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(
      [patched.body.name, patched.body.scope, patched.body.access_token_ttl],
      ['Orders', 'api:read', null],
    );

    assert.equal((await api(h.tessera, h.token, 'DELETE', `/resources/${id}`)).status, 204);
    assert.deepEqual(
      await api(h.tessera, h.token, 'GET', `/resources/${id}`).then((r) => [r.status, r.body]),
      [404, { error: 'not_found', error_description: 'no such resource' }],
    );
    const audit = (await api(h.tessera, h.token, 'GET', `/audit?target=resource:${id}`)).body.data as {
      action: string;
      actor: string;
      details: unknown;
    }[];
    assert.deepEqual(
      audit.map((e) => [e.action, e.actor, e.details]),
      [
        ['resource.delete', 'client:tessera-admin', { identifier: 'https://orders.example.com' }],
        ['resource.update', 'client:tessera-admin', { fields: ['name', 'scope', 'access_token_ttl'] }],
        [
          'resource.create',
          'client:tessera-admin',
          {
            identifier: 'https://orders.example.com',
            scope: 'api:read api:write',
            access_token_format: 'jwt',
          },
        ],
      ],
    );
  });

  it('refuses bad input with 400 invalid_request, a taken identifier with 409, and changes nothing', async () => {
    await create(orders('https://taken.example.com'));
    const before = (await api(h.tessera, h.token, 'GET', '/resources?limit=100')).body;
    const bad: [unknown, string][] = [
      [
        { ...orders('/relative'), identifier: '/relative' },
        'identifier must be an absolute URI without a fragment',
      ],
      [orders('https://api.example.com/#part'), 'identifier must be an absolute URI without a fragment'],
      [orders('not a uri'), 'identifier must be an absolute URI without a fragment'],
      [
        { ...orders('https://a.example'), scope: 'api:read made:up' },
        'scope "made:up" is not an API scope of this server',
      ],
      [
        { ...orders('https://a.example'), scope: 'admin' },
        'scope "admin" is not an API scope of this server',
      ],
      [{ ...orders('https://a.example'), access_token_format: 'paseto' }, ''],
      [
        { ...orders('https://a.example'), access_token_ttl: 59 },
        'access_token_ttl must be between 60 and 86400',
      ],
      [
        { ...orders('https://a.example'), access_token_ttl: 86401 },
        'access_token_ttl must be between 60 and 86400',
      ],
      [{ ...orders('https://a.example'), access_token_ttl: 90.5 }, ''],
      [{ ...orders('https://a.example'), audience: 'x' }, 'unknown field: audience'],
      [{ identifier: 'https://a.example', name: 'A', scope: 'api:read' }, ''],
      [{ ...orders('https://a.example'), name: '  ' }, ''],
      ['[1,2', ''],
      [[], ''],
    ];
    for (const [body, description] of bad) {
      const res = await create(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error, 'invalid_request', JSON.stringify(res.body));
      if (description) assert.equal(res.body.error_description, description);
    }
    const taken = await create(orders('https://taken.example.com'));
    assert.deepEqual(
      [taken.status, taken.body],
      [409, { error: 'conflict', error_description: 'a resource with this identifier exists' }],
    );
    const other = (await create(orders('https://other.example.com'))).body.id;
    const rename = await api(h.tessera, h.token, 'PATCH', `/resources/${String(other)}`, {
      identifier: 'https://taken.example.com',
    });
    assert.equal(rename.status, 409);
    await api(h.tessera, h.token, 'DELETE', `/resources/${String(other)}`);
    assert.deepEqual((await api(h.tessera, h.token, 'GET', '/resources?limit=100')).body, before);
  });

  it('keeps resource servers per account, with unique identifiers across accounts, behind client scopes', async () => {
    const acme = await api(h.tessera, h.token, 'POST', '/accounts', { name: 'Acme' });
    const acmeAdmin = await tokenFor(h.tessera.url, {
      clientId: String((acme.body.admin_client as { client_id: string }).client_id),
      secret: String((acme.body.admin_client as { client_secret: string }).client_secret),
    });
    const mine = await create(orders('https://mine.example.com'));
    const id = String(mine.body.id);
    for (const [method, body] of [['GET'], ['PATCH', { name: 'x' }], ['DELETE']] as const) {
      const res = await api(h.tessera, acmeAdmin, method, `/resources/${id}`, body);
      assert.deepEqual([res.status, res.body.error], [404, 'not_found'], method);
    }
    assert.deepEqual((await api(h.tessera, acmeAdmin, 'GET', '/resources')).body, {
      data: [],
      next_cursor: null,
    });
    const clash = await create(orders('https://mine.example.com'), acmeAdmin);
    assert.equal(clash.status, 409, 'identifiers are unique in the deployment');

    const reader = await api(h.tessera, h.token, 'POST', '/clients', {
      client_name: 'reader',
      scope: 'clients:read',
    });
    const readerToken = await tokenFor(h.tessera.url, credentialsOf(reader));
    assert.equal((await api(h.tessera, readerToken, 'GET', '/resources')).status, 200);
    const refused = await create(orders('https://reader.example.com'), readerToken);
    assert.deepEqual([refused.status, refused.body.error], [403, 'insufficient_scope']);
  });
});
