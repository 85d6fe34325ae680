import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import type { Credentials } from '../support/oauth.js';
import { Browser, pkce } from '../support/browser.js';
import { basic, postForm, redeemCode } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const REDIRECT = 'https://app.example.com/callback';

describe('authorization code with PKCE, through the login and consent pages', () => {
  let tessera: RunningTessera;
  let client: Credentials;

  before(async () => {
    tessera = await startTessera();
    const root = await tokenFor(tessera.url);
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'Web <App>',
      grant_types: ['authorization_code'],
      redirect_uris: [REDIRECT],
      scope: 'openid profile api:read',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    client = credentialsOf(created);
    await api(tessera, root, 'POST', '/users', {
      username: 'alice',
      password: 'alice password 1',
      role: 'member',
    });
  });
  after(async () => tessera.close());

  /** A member of account default, new to every client. */
  const newUser = async (username: string) => {
    const created = await api(tessera, await tokenFor(tessera.url), 'POST', '/users', {
      username,
      password: `${username} password 1`,
      role: 'member',
    });
    assert.equal(created.status, 201);
    return { username, password: `${username} password 1` };
  };

  const authorizeUrl = (challenge: string, extra: Record<string, string> = {}) =>
    `/oauth/authorize?${new URLSearchParams({
      client_id: client.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'openid profile api:read',
      state: 'state-123',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    })}`;

  it('signs in, asks consent, returns a code with the state, and the code gives tokens and userinfo', async () => {
    const browser = new Browser(tessera.url);
    const { verifier, challenge } = pkce();
    const login = await browser.follow(authorizeUrl(challenge));
    assert.equal(login.status, 200);
    assert.match(login.html, /<form method="post" action="\/interaction\/[^"]+\/login"/);
    assert.ok(login.html.includes('Web &lt;App&gt;'), 'the client name is escaped');

    const wrong = await browser.submit(login, '/login', { username: 'alice', password: 'nope' });
    assert.equal(wrong.status, 401);
    assert.ok(wrong.html.includes('Invalid username or password.'));

    const consent = await browser.submit(wrong, '/login', {
      username: 'alice',
      password: 'alice password 1',
    });
    assert.equal(consent.status, 200);
    assert.ok(
      consent.html.includes('<li><strong>api:read</strong>: An API scope of this deployment</li>'),
      consent.html,
    );

    const back = await browser.submit(consent, '/confirm');
    assert.equal(back.status, 303);
    const redirect = new URL(back.location!);
    assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT);
    assert.equal(redirect.searchParams.get('state'), 'state-123');
    assert.equal(redirect.searchParams.get('iss'), tessera.url);
    const code = redirect.searchParams.get('code')!;

    const request = { clientId: client.clientId, redirectUri: REDIRECT, code, verifier };
    const bad = await redeemCode(tessera.url, { ...request, verifier: pkce().verifier }, {}, client);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_grant');

    // The right verifier still redeems the code, once.
    const good = await redeemCode(tessera.url, request, {}, client);
    assert.equal(good.status, 200, JSON.stringify(good.body));
    const accessToken = String(good.body.access_token);
    const introspectIt = () =>
      postForm(
        `${tessera.url}/oauth/introspect`,
        { token: accessToken },
        basic(client.clientId, client.secret),
      );
    assert.equal((await introspectIt()).body.active, true);

    // A replayed code is refused, and the tokens it produced are revoked.
    const replay = await redeemCode(tessera.url, request, {}, client);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.deepEqual((await introspectIt()).body, { active: false });
  });

  it('exchanges a code for an access token and an ID token; userinfo answers for the user', async () => {
    const browser = new Browser(tessera.url);
    const { verifier, challenge } = pkce();
    const login = await browser.follow(authorizeUrl(challenge));
    const next = await browser.submit(login, '/login', await newUser('erin'));
    const back = await browser.submit(next, '/confirm');
    const code = new URL(back.location!).searchParams.get('code')!;
    const request = { clientId: client.clientId, redirectUri: REDIRECT, code, verifier };
    const tokens = await redeemCode(tessera.url, request, {}, client);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.equal(tokens.body.token_type, 'Bearer');
    assert.equal(tokens.body.scope, 'openid profile api:read');
    assert.equal(typeof tokens.body.id_token, 'string');
    const userinfo = await fetch(`${tessera.url}/oauth/userinfo`, {
      headers: { authorization: `Bearer ${String(tokens.body.access_token)}` },
    });
    assert.equal(userinfo.status, 200);
    const claims = (await userinfo.json()) as Record<string, unknown>;
    assert.equal(claims.preferred_username, 'erin');
  });

  it('refuses a request without PKCE or with plain PKCE, redirecting the error with the state', async () => {
    const browser = new Browser(tessera.url);
    const cases: Record<string, string>[] = [
      { code_challenge: '', code_challenge_method: '' },
      { code_challenge_method: 'plain' },
    ];
    for (const extra of cases) {
      const page = await browser.follow(authorizeUrl(pkce().challenge, extra));
      assert.equal(page.status, 303, JSON.stringify(extra));
      const redirect = new URL(page.location!);
      assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT);
      assert.equal(redirect.searchParams.get('error'), 'invalid_request');
      assert.equal(redirect.searchParams.get('state'), 'state-123');
    }
  });

  it('shows an error page, and does not redirect, for an unknown client or a redirect URI that does not match', async () => {
    const browser = new Browser(tessera.url);
    const cases: Record<string, string>[] = [
      { redirect_uri: 'https://evil.example.com/callback' },
      { client_id: 'no-such-client' },
    ];
    for (const extra of cases) {
      const page = await browser.follow(authorizeUrl(pkce().challenge, extra));
      assert.equal(page.status, 400, JSON.stringify(extra));
      assert.equal(page.location, null);
      assert.match(page.html, /<h1>Something went wrong<\/h1>/);
    }
  });

  it('asks for sign-in again when the signed-in user has been disabled since', async () => {
    const root = await tokenFor(tessera.url);
    const created = await api(tessera, root, 'POST', '/users', {
      username: 'dave',
      password: 'dave password 1',
      role: 'member',
    });
    const browser = new Browser(tessera.url);
    const login = await browser.follow(authorizeUrl(pkce().challenge));
    const consent = await browser.submit(login, '/login', { username: 'dave', password: 'dave password 1' });
    const first = await browser.submit(consent, '/confirm');
    assert.ok(first.location?.startsWith(REDIRECT));

    const disabled = await api(tessera, root, 'PATCH', `/users/${String(created.body.id)}`, {
      disabled: true,
    });
    assert.equal(disabled.status, 200);
    const again = await browser.follow(authorizeUrl(pkce().challenge));
    assert.equal(again.status, 200);
    assert.match(again.html, /<form method="post" action="\/interaction\/[^"]+\/login"/);
    const refused = await browser.submit(again, '/login', { username: 'dave', password: 'dave password 1' });
    assert.equal(refused.status, 401);
  });

  it('throttles failed sign-ins per username with a 429 page, even for the right password', async () => {
    await api(tessera, await tokenFor(tessera.url), 'POST', '/users', {
      username: 'carol',
      password: 'carol password 1',
      role: 'member',
    });
    const browser = new Browser(tessera.url);
    let page = await browser.follow(authorizeUrl(pkce().challenge));
    for (let i = 0; i < 5; i += 1) {
      page = await browser.submit(page, '/login', { username: 'carol', password: `wrong ${i}` });
      assert.equal(page.status, 401);
    }
    const throttled = await browser.submit(page, '/login', {
      username: 'carol',
      password: 'carol password 1',
    });
    assert.equal(throttled.status, 429);
    assert.ok(throttled.html.includes('Too many failed sign-in attempts.'));
    // Another user from the same address is not locked out by carol's failures.
    const other = await browser.submit(throttled, '/login', await newUser('frank'));
    assert.equal(other.status, 200);
    assert.ok(other.html.includes('/confirm'));
  });

  it('remembers a consent in the session and across sign-ins, and asks only for scopes not granted yet', async () => {
    const gina = await newUser('gina');
    const browser = new Browser(tessera.url);
    const login = await browser.follow(authorizeUrl(pkce().challenge));
    const consent = await browser.submit(login, '/login', gina);
    assert.ok(consent.html.includes('/confirm'));
    const first = await browser.submit(consent, '/confirm');
    assert.ok(first.location?.startsWith(REDIRECT));
    const again = await browser.follow(authorizeUrl(pkce().challenge));
    assert.equal(again.status, 303, 'straight back to the client, no page');
    assert.ok(new URL(again.location!).searchParams.get('code'));

    // A new browser signs in again, and is not asked again.
    const elsewhere = new Browser(tessera.url);
    const signIn = await elsewhere.follow(authorizeUrl(pkce().challenge));
    const back = await elsewhere.submit(signIn, '/login', gina);
    assert.equal(back.status, 303);
    assert.ok(back.location?.startsWith(REDIRECT), back.html);

    // A scope the user has not granted yet is asked for, and only that one.
    const root = await tokenFor(tessera.url);
    await api(tessera, root, 'PATCH', `/clients/${client.clientId}`, {
      scope: 'openid profile api:read api:write',
    });
    const asked = await elsewhere.follow(
      authorizeUrl(pkce().challenge, { scope: 'openid profile api:read api:write' }),
    );
    assert.equal(asked.status, 200);
    assert.deepEqual(
      [...asked.html.matchAll(/<li><strong>([^<]+)<\/strong>/g)].map((m) => m[1]),
      ['api:write'],
    );
    await api(tessera, root, 'PATCH', `/clients/${client.clientId}`, { scope: 'openid profile api:read' });
  });

  it('skips consent for a first-party client', async () => {
    const browser = new Browser(tessera.url);
    const query = new URLSearchParams({
      client_id: 'tessera-console',
      response_type: 'code',
      redirect_uri: `${tessera.url}/admin/callback`,
      scope: 'openid admin',
      state: 'console',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    });
    const login = await browser.follow(`/oauth/authorize?${query}`);
    assert.ok(login.html.includes('Sign in to Tessera console'));
    // The callback is on this server; stop at the redirect instead of following it.
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(login.html)![1]!;
    const page = await browser.follow(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, username: 'admin', password: 'test-admin-password' }).toString(),
    });
    assert.ok(!page.html.includes('/confirm'), 'no consent page');
    assert.equal(new URL(page.url).pathname, '/admin/callback');
    const params = new URL(page.url).searchParams;
    assert.equal(params.get('state'), 'console');
    assert.ok(params.get('code'));
  });

  it('refuses a forged form post (no CSRF token)', async () => {
    const browser = new Browser(tessera.url);
    const login = await browser.follow(authorizeUrl(pkce().challenge));
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.html)![1]!;
    const forged = await browser.follow(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: 'alice password 1' }).toString(),
    });
    assert.equal(forged.status, 403);
  });
});
