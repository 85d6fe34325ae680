import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { adminHarness, api, credentialsOf, tokenFor } from '../support/admin.js';
import { authorizePath, Browser, pkce } from '../support/browser.js';
import { ADMIN, basic, clientCredentials, introspect, postForm, type Credentials } from '../support/oauth.js';

const ORDERS = 'https://orders.example.com';
const REDIRECT = 'https://app.example.com/callback';

describe('resource indicators (RFC 8707)', () => {
  const h = adminHarness();
  let machine: Credentials;
  let acmeResource: string;

  before(async () => {
    const created = await api(h.tessera, h.token, 'POST', '/resources', {
      identifier: ORDERS,
      name: 'Orders',
      scope: 'api:read',
      access_token_format: 'opaque',
      access_token_ttl: 300,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const client = await api(h.tessera, h.token, 'POST', '/clients', {
      client_name: 'orders worker',
      scope: 'api:read api:write',
      access_token_ttl: 600,
    });
    machine = credentialsOf(client);
    // A resource server of another account.
    const acme = await api(h.tessera, h.token, 'POST', '/accounts', { name: 'Acme' });
    const acmeAdmin = acme.body.admin_client as { client_id: string; client_secret: string };
    const acmeToken = await tokenFor(h.tessera.url, {
      clientId: acmeAdmin.client_id,
      secret: acmeAdmin.client_secret,
    });
    acmeResource = 'https://acme.example.com/api';
    const other = await api(h.tessera, acmeToken, 'POST', '/resources', {
      identifier: acmeResource,
      name: 'Acme API',
      scope: 'api:read',
      access_token_format: 'opaque',
    });
    assert.equal(other.status, 201);
  });

  it('issues a client-credentials token for the resource: its audience, its scopes, the shorter lifetime', async () => {
    const res = await clientCredentials(h.tessera.url, machine, { resource: ORDERS });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scope, 'api:read', 'api:write is not a scope of the resource');
    assert.equal(res.body.expires_in, 300, 'the resource lifetime is shorter than the client one');
    const info = await introspect(h.tessera.url, ADMIN, String(res.body.access_token));
    assert.equal(info.body.active, true);
    assert.equal(info.body.aud, ORDERS);
    assert.equal(info.body.scope, 'api:read');
    assert.equal(Number(info.body.exp) - Number(info.body.iat), 300);

    const asked = await clientCredentials(h.tessera.url, machine, {
      resource: ORDERS,
      scope: 'api:read api:write',
    });
    assert.equal(asked.status, 200);
    assert.equal(asked.body.scope, 'api:read');

    // Without resource=, tokens are as before.
    const plain = await clientCredentials(h.tessera.url, machine);
    assert.equal(plain.body.scope, 'api:read api:write');
    assert.equal(plain.body.expires_in, 600);
    assert.equal(
      (await introspect(h.tessera.url, ADMIN, String(plain.body.access_token))).body.aud,
      undefined,
    );
  });

  it("refuses an unknown resource, another account's, several, and malformed ones with 400 invalid_target", async () => {
    const cases: Record<string, string | string[]>[] = [
      { resource: 'https://unknown.example.com' },
      { resource: acmeResource },
      { resource: '/relative' },
      { resource: `${ORDERS}#fragment` },
    ];
    for (const extra of cases) {
      const res = await clientCredentials(h.tessera.url, machine, extra as Record<string, string>);
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.equal(res.body.error, 'invalid_target', JSON.stringify(res.body));
    }
    const form = new URLSearchParams([
      ['grant_type', 'client_credentials'],
      ['resource', ORDERS],
      ['resource', 'https://second.example.com'],
    ]);
    const both = await fetch(`${h.tessera.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...basic(machine.clientId, machine.secret),
      },
      body: form.toString(),
    });
    assert.equal(both.status, 400);
    assert.equal(((await both.json()) as { error: string }).error, 'invalid_target');
  });

  it('carries the resource through authorization code and refresh', async () => {
    const web = await api(h.tessera, h.token, 'POST', '/clients', {
      client_name: 'orders web',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT],
      scope: 'openid api:read',
    });
    const creds = credentialsOf(web);
    await api(h.tessera, h.token, 'POST', '/users', {
      username: 'rita',
      password: 'rita password 1',
      role: 'member',
    });
    const browser = new Browser(h.tessera.url, REDIRECT);
    const { verifier, challenge } = pkce();
    const path = `${authorizePath({ clientId: creds.clientId, redirectUri: REDIRECT, scope: 'openid api:read', challenge })}&resource=${encodeURIComponent(ORDERS)}`;
    const login = await browser.follow(path);
    const consent = await browser.submit(login, '/login', { username: 'rita', password: 'rita password 1' });
    assert.equal(consent.status, 200, consent.html);
    const back = await browser.submit(consent, '/confirm');
    const code = new URL(back.location!).searchParams.get('code')!;
    const tokens = await postForm(
      `${h.tessera.url}/oauth/token`,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        resource: ORDERS,
      },
      basic(creds.clientId, creds.secret),
    );
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const info = await introspect(h.tessera.url, creds, String(tokens.body.access_token));
    assert.deepEqual([info.body.aud, info.body.scope], [ORDERS, 'api:read']);
    assert.equal(Number(info.body.exp) - Number(info.body.iat), 300);

    const renewed = await postForm(
      `${h.tessera.url}/oauth/token`,
      { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) },
      basic(creds.clientId, creds.secret),
    );
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    const again = await introspect(h.tessera.url, creds, String(renewed.body.access_token));
    assert.deepEqual([again.body.aud, again.body.scope], [ORDERS, 'api:read'], 'refresh keeps the resource');

    const elsewhere = await postForm(
      `${h.tessera.url}/oauth/token`,
      {
        grant_type: 'refresh_token',
        refresh_token: String(renewed.body.refresh_token),
        resource: acmeResource,
      },
      basic(creds.clientId, creds.secret),
    );
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body.error, 'invalid_target');
  });
});
