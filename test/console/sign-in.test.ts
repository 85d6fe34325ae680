import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { api } from '../support/admin.js';
import { ADMIN_PASSWORD, clickAndLoad, consoleHarness, newContext, signIn } from '../support/chromium.js';

describe('console sign-in', () => {
  const h = consoleHarness();

  before(async () => {
    const member = await api(h.tessera, h.root, 'POST', '/users', {
      username: 'mia',
      password: 'member-password-123',
      role: 'member',
    });
    assert.equal(member.status, 201);
  });

  it('sends a h.browser without a session to /oauth/authorize with PKCE S256, state and nonce', async () => {
    const response = await fetch(`${h.tessera.url}/admin`, { redirect: 'manual' });
    assert.equal(response.status, 303);
    const location = new URL(response.headers.get('location')!);
    assert.equal(location.origin + location.pathname, `${h.tessera.url}/oauth/authorize`);
    assert.equal(location.searchParams.get('client_id'), 'tessera-console');
    assert.equal(location.searchParams.get('response_type'), 'code');
    assert.equal(location.searchParams.get('redirect_uri'), `${h.tessera.url}/admin/callback`);
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    assert.match(location.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(location.searchParams.get('state')!, /^[A-Za-z0-9_-]{32,}$/);
    assert.match(location.searchParams.get('nonce')!, /^[A-Za-z0-9_-]{32,}$/);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('tessera_console='))!;
    assert.match(cookie, /; path=\/admin/);
    assert.match(cookie, /; samesite=lax/);
    assert.match(cookie, /; httponly/);
    assert.doesNotMatch(cookie, /; secure/);
  });

  it('sends a browser that opened the console under another loopback name to the issuer first', async () => {
    const other = h.tessera.url.replace('127.0.0.1', 'localhost');
    const response = await fetch(`${other}/admin/users?x=1`, { redirect: 'manual' });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), `${h.tessera.url}/admin/users?x=1`);
    assert.deepEqual(response.headers.getSetCookie(), []);
  });

  it('signs an admin in through the sign-in form; the h.browser holds only the session cookie', async () => {
    const context = await newContext(h.browser, h.tessera.url);
    const page = await context.newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    assert.equal(new URL(page.url()).pathname, '/admin/clients');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Clients');
    assert.equal(await page.locator('.account-name').textContent(), 'Default');
    assert.ok(await page.getByRole('button', { name: 'Sign out' }).isVisible());
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'tessera_console')!;
    assert.deepEqual(
      { httpOnly: session.httpOnly, sameSite: session.sameSite, path: session.path, secure: session.secure },
      { httpOnly: true, sameSite: 'Lax', path: '/admin', secure: false },
    );
    assert.match(session.value, /^[A-Za-z0-9_-]{43}$/);
    // The console's tokens live in the session record; the h.browser has its id and the sign-in
    // session's cookies only.
    const record = await h.tessera.container.tokenStore.adapter('ConsoleSession').find(session.value);
    const tokens = record!.tokens as { accessToken: string; refreshToken: string };
    assert.match(tokens.accessToken, /^[A-Za-z0-9_-]{43}$/);
    const html = await page.content();
    for (const value of [tokens.accessToken, tokens.refreshToken]) {
      assert.ok(!html.includes(value));
      assert.ok(cookies.every((c) => !c.value.includes(value)));
    }
    // Besides the console's cookie, only oidc-provider's own (sign-in session and interaction).
    assert.deepEqual(
      cookies.map((c) => c.name).filter((name) => !/^_(session|interaction)(\.sig)?$/.test(name)),
      ['tessera_console'],
    );
    await context.close();
  });

  it('gives a member a 403 page', async () => {
    const context = await newContext(h.browser, h.tessera.url);
    const page = await context.newPage();
    await signIn(page, 'mia', 'member-password-123');
    assert.equal((await page.reload())!.status(), 403);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'No access');
    // The member's console token does not act in the admin API either.
    const pageAgain = await context.request.get(`${h.tessera.url}/admin/users`, { maxRedirects: 0 });
    assert.equal(pageAgain.status(), 403);
    await context.close();
  });

  it('sign out ends the console session, the sign-in session and the console tokens', async () => {
    const context = await newContext(h.browser, h.tessera.url);
    const page = await context.newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const before = (await context.cookies()).find((c) => c.name === 'tessera_console')!.value;
    const events = await api(h.tessera, h.root, 'GET', '/audit?limit=1');
    assert.equal(events.status, 200);

    await clickAndLoad(page, page.getByRole('button', { name: 'Sign out' }));
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Signed out');
    assert.equal(
      (await context.cookies()).find((c) => c.name === 'tessera_console'),
      undefined,
    );

    // The old cookie is worth nothing now.
    const replay = await fetch(`${h.tessera.url}/admin/clients`, {
      redirect: 'manual',
      headers: { cookie: `tessera_console=${before}` },
    });
    assert.equal(replay.status, 303);
    assert.match(replay.headers.get('location')!, /\/oauth\/authorize\?/);

    // Going back to the console asks for the password again: the sign-in session is gone too.
    await page.goto('/admin');
    assert.ok(await page.getByLabel('Password').isVisible());
    await context.close();
  });

  it('refuses a form posted without its CSRF token, and changes nothing', async () => {
    const context = await newContext(h.browser, h.tessera.url);
    const page = await context.newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    const count = async () =>
      ((await api(h.tessera, h.root, 'GET', '/clients?limit=100')).body.data as unknown[]).length;
    const before = await count();
    for (const csrf of [undefined, 'forged-token', '']) {
      const response = await context.request.post(`${h.tessera.url}/admin/clients`, {
        form: {
          ...(csrf === undefined ? {} : { csrf }),
          client_name: 'forged',
          grant_types: 'client_credentials',
          token_endpoint_auth_method: 'client_secret_basic',
        },
        maxRedirects: 0,
      });
      assert.equal(response.status(), 403);
      assert.match(await response.text(), /The form has expired or did not come from this console/);
    }
    // Sign out too: without the token it does not end the session.
    const logout = await context.request.post(`${h.tessera.url}/admin/logout`, { form: {}, maxRedirects: 0 });
    assert.equal(logout.status(), 403);
    await page.goto('/admin/clients');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Clients');
    assert.equal(await count(), before);
    await context.close();
  });

  it('sends every console page with a strict CSP and no inline script', async () => {
    const context = await newContext(h.browser, h.tessera.url);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await signIn(page, 'admin', ADMIN_PASSWORD);
    for (const path of [
      '/admin/clients',
      '/admin/clients/new',
      '/admin/users',
      '/admin/audit',
      '/admin/accounts',
    ]) {
      const response = (await page.goto(path))!;
      assert.equal(response.status(), 200, path);
      const headers = response.headers();
      const csp = headers['content-security-policy']!;
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
      assert.equal(headers['x-content-type-options'], 'nosniff', path);
      assert.equal(headers['referrer-policy'], 'no-referrer', path);
      assert.equal(await page.locator('script:not([src])').count(), 0, path);
      assert.deepEqual(
        await page
          .locator('script[src]')
          .evaluateAll((s) => s.map((e) => (e as unknown as { src: string }).src)),
        [`${h.tessera.url}/assets/console.js`],
        path,
      );
      const styles = await page
        .locator('link[rel=stylesheet]')
        .evaluateAll((l) => l.map((e) => new URL((e as unknown as { href: string }).href).origin));
      assert.ok(
        styles.every((origin) => origin === h.tessera.url),
        path,
      );
    }
    assert.deepEqual(violations, []);
    await context.close();
  });
});
