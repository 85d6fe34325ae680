import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { api } from '../support/admin.js';
import { codeThroughForms } from '../support/browser.js';
import { ADMIN_PASSWORD, clickAndLoad, consoleHarness, newContext, signIn } from '../support/chromium.js';
import { introspect, ADMIN, postForm } from '../support/oauth.js';

interface StoredSession {
  tokens: { accessToken: string; refreshToken: string; expiresAt: number };
  [key: string]: unknown;
}

describe('console sessions', () => {
  const h = consoleHarness();

  const sessions = () => h.tessera.container.tokenStore.adapter('ConsoleSession');

  async function signedInPage() {
    const context = await newContext(h.browser, h.tessera.url);
    const page = await context.newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const id = (await context.cookies()).find((c) => c.name === 'tessera_console')!.value;
    return { context, page, id };
  }

  /** Rewrites the stored session's tokens as if their access token had expired. */
  async function expire(id: string, change: Partial<StoredSession['tokens']> = {}) {
    const stored = (await sessions().find(id)) as unknown as StoredSession;
    stored.tokens = { ...stored.tokens, expiresAt: Date.now() - 1000, ...change };
    await sessions().upsert(id, stored as never, 3600);
    return stored;
  }

  it('keeps the session on another node: the session lives in the token store', async () => {
    const { context, id } = await signedInPage();
    const stored = (await sessions().find(id)) as unknown as StoredSession;
    assert.ok(stored.tokens.accessToken);
    // The cookie alone, from a client that never saw the sign-in, reaches the console.
    const response = await fetch(`${h.tessera.url}/admin/clients`, {
      headers: { cookie: `tessera_console=${id}` },
    });
    assert.equal(response.status, 200);
    await context.close();
  });

  it('refreshes the tokens when the access token expires, and the refresh token rotates', async () => {
    const { context, page, id } = await signedInPage();
    const before = await expire(id);
    assert.equal((await page.goto('/admin/clients'))!.status(), 200);
    const after = (await sessions().find(id)) as unknown as StoredSession;
    assert.notEqual(after.tokens.accessToken, before.tokens.accessToken);
    assert.notEqual(after.tokens.refreshToken, before.tokens.refreshToken);
    assert.ok(after.tokens.expiresAt > Date.now());
    await context.close();
  });

  it('sends the user back to sign in when the tokens cannot be renewed', async () => {
    const { context, page, id } = await signedInPage();
    await expire(id, { refreshToken: 'spent-or-revoked' });
    await page.goto('/admin/users');
    assert.equal(
      new URL(page.url()).pathname.startsWith('/interaction/'),
      false,
      'the sign-in session still stands',
    );
    // The browser's sign-in session is still valid, so the new sign-in completes at once and
    // returns to the page asked for, with new tokens.
    assert.equal(new URL(page.url()).pathname, '/admin/users');
    const renewed = (await sessions().find(
      (await context.cookies()).find((c) => c.name === 'tessera_console')!.value,
    )) as unknown as StoredSession;
    assert.notEqual(renewed.tokens.refreshToken, 'spent-or-revoked');
    await context.close();
  });

  it('ends the console session when the user is disabled', async () => {
    const user = await api(h.tessera, h.root, 'POST', '/users', {
      username: 'dana',
      password: 'dana-password-1234',
      role: 'admin',
    });
    const context = await newContext(h.browser, h.tessera.url);
    const page = await context.newPage();
    await signIn(page, 'dana', 'dana-password-1234');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Clients');
    await api(h.tessera, h.root, 'PATCH', `/users/${(user.body as { id: string }).id}`, { disabled: true });
    const response = await page.goto('/admin/clients');
    // Sent to sign in again; the form refuses the disabled user.
    assert.ok(await page.getByLabel('Password').isVisible());
    assert.equal(response!.status(), 200);
    await context.close();
  });

  it('revokes the console tokens at sign-out', async () => {
    const { context, page, id } = await signedInPage();
    const stored = (await sessions().find(id)) as unknown as StoredSession;
    await clickAndLoad(page, page.getByRole('button', { name: 'Sign out' }));
    assert.equal(await sessions().find(id), undefined);
    // The console is a public client; the admin client introspects the token as an account peer.
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, stored.tokens.accessToken)).body, {
      active: false,
    });
    const refresh = await postForm(`${h.tessera.url}/oauth/token`, {
      grant_type: 'refresh_token',
      refresh_token: stored.tokens.refreshToken,
      client_id: 'tessera-console',
    });
    assert.equal(refresh.status, 400);
    assert.equal(refresh.body.error, 'invalid_grant');
    await context.close();
  });

  it("keeps a member's token out of the admin API even though the console client asks for admin", async () => {
    await api(h.tessera, h.root, 'POST', '/users', {
      username: 'max',
      password: 'max-password-12345',
      role: 'member',
    });
    const redirectUri = `${h.tessera.url}/admin/callback`;
    const code = async (username: string, password: string) => {
      const { code, verifier } = await codeThroughForms(h.tessera.url, {
        clientId: 'tessera-console',
        redirectUri,
        scope: 'openid admin accounts:admin',
        username,
        password,
      });
      const token = await postForm(`${h.tessera.url}/oauth/token`, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_id: 'tessera-console',
      });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      return String(token.body.access_token);
    };
    const member = await code('max', 'max-password-12345');
    assert.deepEqual((await api(h.tessera, member, 'GET', '/clients')).body, {
      error: 'insufficient_scope',
      error_description: 'this call needs one of the scopes: admin clients:read',
    });
    assert.equal((await api(h.tessera, member, 'GET', '/accounts')).status, 403);
    const admin = await code('admin', ADMIN_PASSWORD);
    assert.equal((await api(h.tessera, admin, 'GET', '/clients')).status, 200);
    assert.equal((await api(h.tessera, admin, 'GET', '/accounts')).status, 200);
  });
});
