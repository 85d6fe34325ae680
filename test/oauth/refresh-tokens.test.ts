import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { authorizePath, Browser, codeThroughForms } from '../support/browser.js';
import { ADMIN, introspect, postForm } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const REDIRECT = 'http://127.0.0.1:8765/callback';

describe('refresh tokens of a public client', () => {
  let tessera: RunningTessera;
  let root: string;
  let clientId: string;
  let userId: string;

  before(async () => {
    tessera = await startTessera();
    root = await tokenFor(tessera.url);
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'native app',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT],
      scope: 'openid api:read',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    clientId = String((created.body.client as { client_id: string }).client_id);
    const user = await api(tessera, root, 'POST', '/users', {
      username: 'bob',
      password: 'bob password 123',
      role: 'member',
    });
    userId = String(user.body.id);
  });
  after(async () => tessera.close());

  /** Signs bob in through the forms and redeems the code. */
  async function signIn(): Promise<Record<string, unknown>> {
    const { code, verifier } = await codeThroughForms(tessera.url, {
      clientId,
      redirectUri: REDIRECT,
      scope: 'openid api:read',
      state: 's',
      username: 'bob',
      password: 'bob password 123',
    });
    const tokens = await postForm(`${tessera.url}/oauth/token`, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: clientId,
    });
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    return tokens.body;
  }

  const refresh = (token: unknown) =>
    postForm(`${tessera.url}/oauth/token`, {
      grant_type: 'refresh_token',
      refresh_token: String(token),
      client_id: clientId,
    });

  it('issues a refresh token without offline_access, and rotates it on every use', async () => {
    const first = await signIn();
    assert.equal(typeof first.refresh_token, 'string');
    const second = await refresh(first.refresh_token);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.notEqual(second.body.refresh_token, first.refresh_token);
    assert.equal(second.body.scope, 'openid api:read');
  });

  it('revokes the whole grant when a spent refresh token is used again', async () => {
    const first = await signIn();
    const second = await refresh(first.refresh_token);
    const reuse = await refresh(first.refresh_token);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    assert.equal(
      (await refresh(second.body.refresh_token)).status,
      400,
      'the rotated token died with the grant',
    );
    for (const token of [first.access_token, second.body.access_token]) {
      assert.deepEqual((await introspect(tessera.url, ADMIN, String(token))).body, { active: false });
    }
  });

  it('stops refreshing, and refuses sign-in, for a disabled user', async () => {
    const tokens = await signIn();
    await api(tessera, root, 'PATCH', `/users/${userId}`, { disabled: true });
    try {
      const refused = await refresh(tokens.refresh_token);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'invalid_grant');
      const browser = new Browser(tessera.url);
      const login = await browser.follow(authorizePath({ clientId, redirectUri: REDIRECT, scope: 'openid' }));
      const attempt = await browser.submit(login, '/login', {
        username: 'bob',
        password: 'bob password 123',
      });
      assert.equal(attempt.status, 401);
      assert.ok(attempt.html.includes('Invalid username or password.'));
    } finally {
      await api(tessera, root, 'PATCH', `/users/${userId}`, { disabled: false });
    }
  });
});
