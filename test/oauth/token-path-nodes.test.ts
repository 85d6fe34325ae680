import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { clientCredentials, introspect, type Credentials } from '../support/oauth.js';
import { twoNodesOnRedis } from '../support/redis.js';

const ORDERS = 'https://orders.example.com';

/**
 * A change made on node A holds on node B from B's next request (README, "Production and
 * scaling"), whether B served the client from its memory a moment before (the fast path: the
 * combined read finds the account's mark moved and reloads) or never saw it (first sight).
 */
describe('the token path on two nodes: a change on one, the next request on the other', () => {
  const admin: Credentials = {
    clientId: 'tessera-admin',
    secret: 'token-path-admin-secret-0123456789abcdef',
  };
  const nodes = twoNodesOnRedis(10, {
    TESSERA_ADMIN_CLIENT_SECRET: admin.secret,
    TESSERA_CLIENT_AUTH_MAX_FAILURES: '3',
  });

  /** Two clients registered on A: `warm` already served by B (secret verified there), `cold` never seen by B. */
  async function pair(name: string, fields: Record<string, unknown> = {}) {
    const root = await tokenFor(nodes.one.url, admin);
    const make = async (suffix: string) =>
      credentialsOf(
        await api(nodes.one.url, root, 'POST', '/clients', {
          client_name: `${name} ${suffix}`,
          scope: 'api:read api:write',
          ...fields,
        }),
      );
    const warm = await make('warm');
    const cold = await make('cold');
    const issued = await clientCredentials(nodes.two.url, warm);
    assert.equal(issued.status, 200);
    return { root, warm, cold, token: String(issued.body.access_token) };
  }

  const status = async (creds: Credentials, extra: Record<string, string> = {}) =>
    (await clientCredentials(nodes.two.url, creds, extra)).status;

  it('a rotated secret', async () => {
    const { root, warm, cold } = await pair('rotated');
    const fresh: Record<string, string> = {};
    for (const creds of [warm, cold]) {
      const rotated = await api(nodes.one.url, root, 'POST', `/clients/${creds.clientId}/secret`);
      assert.equal(rotated.status, 200);
      fresh[creds.clientId] = String(rotated.body.client_secret);
    }
    for (const creds of [warm, cold]) {
      assert.equal(await status(creds), 401, creds.clientId);
      assert.equal(await status({ ...creds, secret: fresh[creds.clientId]! }), 200);
    }
  });

  it('a disabled client, whose tokens read inactive while it stays disabled', async () => {
    const { root, warm, cold, token } = await pair('disabled');
    for (const creds of [warm, cold]) {
      assert.equal(
        (await api(nodes.one.url, root, 'PATCH', `/clients/${creds.clientId}`, { disabled: true })).status,
        200,
      );
    }
    for (const creds of [warm, cold]) assert.equal(await status(creds), 401);
    assert.deepEqual((await introspect(nodes.two.url, admin, token)).body, { active: false });
    await api(nodes.one.url, root, 'PATCH', `/clients/${warm.clientId}`, { disabled: false });
    assert.equal((await introspect(nodes.two.url, admin, token)).body.active, true);
    assert.equal(await status(warm), 200);
  });

  it('a deleted client, whose tokens stay inactive', async () => {
    const { root, warm, cold, token } = await pair('deleted');
    for (const creds of [warm, cold]) {
      assert.equal((await api(nodes.one.url, root, 'DELETE', `/clients/${creds.clientId}`)).status, 204);
    }
    for (const creds of [warm, cold]) assert.equal(await status(creds), 401);
    assert.deepEqual((await introspect(nodes.two.url, admin, token)).body, { active: false });
    assert.deepEqual((await introspect(nodes.one.url, admin, token)).body, { active: false });
  });

  it('a scope and lifetime change, for the tokens issued afterwards', async () => {
    const { root, warm, token } = await pair('reshaped');
    const patched = await api(nodes.one.url, root, 'PATCH', `/clients/${warm.clientId}`, {
      scope: 'api:write',
      access_token_ttl: 120,
    });
    assert.equal(patched.status, 200);
    const next = await clientCredentials(nodes.two.url, warm);
    assert.equal(next.status, 200);
    assert.deepEqual([next.body.scope, next.body.expires_in], ['api:write', 120]);
    assert.equal((await clientCredentials(nodes.two.url, warm, { scope: 'api:read' })).status, 400);
    assert.equal((await introspect(nodes.two.url, admin, token)).body.scope, 'api:read api:write');
  });

  it('a throttled pair, counted on the other node, even with the right secret', async () => {
    const { warm, cold } = await pair('throttled');
    for (const creds of [warm, cold]) {
      for (let i = 0; i < 3; i += 1) {
        assert.equal(
          (await clientCredentials(nodes.one.url, { ...creds, secret: `wrong ${i}` })).status,
          401,
        );
      }
    }
    for (const creds of [warm, cold]) {
      const refused = await clientCredentials(nodes.two.url, creds);
      assert.equal(refused.status, 429, creds.clientId);
      assert.equal(refused.body.error, 'invalid_client');
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    }
  });

  it('a resource server deleted on one node is unknown to the other from its next token', async () => {
    const { root, warm } = await pair('resource', {});
    const created = await api(nodes.one.url, root, 'POST', '/resources', {
      identifier: ORDERS,
      name: 'Orders',
      scope: 'api:read',
      access_token_format: 'jwt',
    });
    assert.equal(created.status, 201);
    assert.equal(await status(warm, { resource: ORDERS }), 200);
    assert.equal(
      (await api(nodes.one.url, root, 'DELETE', `/resources/${String(created.body.id)}`)).status,
      204,
    );
    const refused = await clientCredentials(nodes.two.url, warm, { resource: ORDERS });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_target');
  });
});
