import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { authorizePath, Browser, pkce, type Page } from '../support/browser.js';
import { redeemCode, type Credentials } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const REDIRECT = 'https://rp.example.com/callback';
const SIGNED_OUT = 'https://rp.example.com/signed-out';

/** A relying party's back-channel logout endpoint: it records each logout token it receives. */
async function logoutReceiver(): Promise<{ server: Server; url: string; next: () => Promise<string> }> {
  const waiting: ((token: string) => void)[] = [];
  const received: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      res.writeHead(200).end();
      const waiter = waiting.shift();
      if (waiter) waiter(token);
      else received.push(token);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}/backchannel-logout`,
    next: () =>
      received.length ? Promise.resolve(received.shift()!) : new Promise((resolve) => waiting.push(resolve)),
  };
}

describe('logout: RP-initiated (OpenID Connect RP-Initiated Logout 1.0) and back-channel', () => {
  let tessera: RunningTessera;
  let client: Credentials;
  let receiver: Awaited<ReturnType<typeof logoutReceiver>>;
  const user = { username: 'lena', password: 'lena password 1' };

  before(async () => {
    tessera = await startTessera();
    receiver = await logoutReceiver();
    const root = await tokenFor(tessera.url);
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'Relying party',
      grant_types: ['authorization_code'],
      redirect_uris: [REDIRECT],
      post_logout_redirect_uris: [SIGNED_OUT],
      backchannel_logout_uri: receiver.url,
      scope: 'openid profile',
      require_consent: false,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(
      created.body.client && (created.body.client as Record<string, unknown>).post_logout_redirect_uris,
      [SIGNED_OUT],
    );
    client = credentialsOf(created);
    assert.equal((await api(tessera, root, 'POST', '/users', { ...user, role: 'member' })).status, 201);
  });
  after(async () => {
    receiver.server.close();
    await tessera.close();
  });

  /** Signs `browser` in as the relying party does, and returns the ID token it gets. */
  async function signIn(browser: Browser): Promise<string> {
    const { verifier, challenge } = pkce();
    const login = await browser.follow(
      authorizePath({
        clientId: client.clientId,
        redirectUri: REDIRECT,
        scope: 'openid',
        challenge,
        extra: { nonce: 'n-1' },
      }),
    );
    assert.match(login.html, /Sign in to Relying party/);
    const back = await browser.submit(login, '/login', user);
    assert.ok(back.location?.startsWith(REDIRECT), back.html);
    const code = new URL(back.location!).searchParams.get('code')!;
    const request = { clientId: client.clientId, redirectUri: REDIRECT, code, verifier };
    const tokens = await redeemCode(tessera.url, request, {}, client);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    return String(tokens.body.id_token);
  }

  const logoutPath = (query: Record<string, string>) => `/oauth/logout?${new URLSearchParams(query)}`;

  /** The headers every HTML page of Tessera's carries (README, "Operations"). */
  function assertPageHeaders(page: Response) {
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  }

  it('asks to confirm on its own page, ends the session, returns with state and asks for a password again', async () => {
    const browser = new Browser(tessera.url, 'https://rp.example.com/');
    const idToken = await signIn(browser);
    const { sub, sid } = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()) as {
      sub: string;
      sid: string;
    };

    const confirm: Page = await browser.follow(
      logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT, state: 'st-9' }),
    );
    assert.equal(confirm.status, 200);
    assert.match(confirm.html, /<title>Sign out · Tessera<\/title>/);
    assert.match(
      confirm.html,
      /<button type="submit" form="op.logoutForm" name="logout" value="yes"[^>]*>Sign out<\/button>/,
    );
    assert.doesNotMatch(confirm.html, /<style|<script|@import|https?:\/\/(?!127\.0\.0\.1)/);
    assert.match(confirm.html, /href="\/assets\/tessera\.css"/);

    const signedOut = await browser.submit(confirm, '/oauth/logout/confirm', { logout: 'yes' });
    assert.equal(signedOut.status, 303);
    assert.equal(signedOut.location, `${SIGNED_OUT}?state=st-9`);

    // Back-Channel Logout 1.0 section 2.4: signed by Tessera, for this client, naming the session.
    const logoutToken = await receiver.next();
    const { payload, protectedHeader } = await jwtVerify(
      logoutToken,
      createRemoteJWKSet(new URL(`${tessera.url}/oauth/jwks`)),
      { issuer: tessera.url, audience: client.clientId },
    );
    assert.equal(protectedHeader.typ, 'logout+jwt');
    assert.equal(payload.sub, sub);
    assert.equal(payload.sid, sid);
    assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
    assert.equal(payload.nonce, undefined);

    // The sign-in session is gone: the next authorization asks for a password.
    const again = await browser.follow(
      authorizePath({ clientId: client.clientId, redirectUri: REDIRECT, scope: 'openid' }),
    );
    assert.equal(again.status, 200);
    assert.match(again.html, /name="password"/);
  });

  it('serves its confirmation and signed-out pages with the headers of the sign-in pages', async () => {
    const browser = new Browser(tessera.url, 'https://rp.example.com/');
    const idToken = await signIn(browser);
    const confirm = await fetch(`${tessera.url}${logoutPath({ id_token_hint: idToken })}`, {
      headers: { cookie: browser.cookieHeader() },
    });
    assert.equal(confirm.status, 200);
    assertPageHeaders(confirm);
    const page: Page = { status: 200, url: confirm.url, html: await confirm.text(), location: null };

    // Without a post_logout_redirect_uri the browser ends on Tessera's signed-out page.
    const ended = await browser.submit(page, '/oauth/logout/confirm', { logout: 'yes' });
    assert.equal(ended.status, 200);
    assert.match(ended.html, /<h1>You are signed out<\/h1>/);
    const success = await fetch(`${tessera.url}/oauth/logout/success`);
    assertPageHeaders(success);
    assert.doesNotMatch(await success.text(), /<style|<script|@import/);
    await receiver.next();
  });

  it('without a session, continues by itself under a policy that allows only its own script', async () => {
    const res = await fetch(`${tessera.url}/oauth/logout`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200);
    assertPageHeaders(res);
    const html = await res.text();
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = createHash('sha256').update(script).digest('base64');
    assert.match(
      res.headers.get('content-security-policy')!,
      new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}'`),
    );
    assert.ok(html.includes(`<form method="post" action="${tessera.url}/oauth/logout/confirm">`), html);
    assert.doesNotMatch(html.replaceAll(tessera.url, ''), /https?:\/\//, 'nothing from another host');
  });

  it('shows an error page and redirects nowhere for a post_logout_redirect_uri not registered', async () => {
    const browser = new Browser(tessera.url, 'https://rp.example.com/');
    const idToken = await signIn(browser);
    const res = await fetch(
      `${tessera.url}${logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/', state: 's' })}`,
      { redirect: 'manual', headers: { cookie: browser.cookieHeader(), accept: 'text/html' } },
    );
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assertPageHeaders(res);
    const html = await res.text();
    assert.match(html, /<p class="error" role="alert">invalid_request<\/p>/);
    assert.match(html, /post_logout_redirect_uri not registered/);
  });

  it('refuses logout URIs that break the redirect URI rules, changing nothing', async () => {
    const root = await tokenFor(tessera.url);
    const bad = [
      [{ post_logout_redirect_uris: ['http://rp.example.com/out'] }, 'post_logout_redirect_uris'],
      [{ post_logout_redirect_uris: ['https://rp.example.com/out#x'] }, 'post_logout_redirect_uris'],
      [{ backchannel_logout_uri: 'http://rp.example.com/bcl' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 'not a uri' }, 'backchannel_logout_uri'],
    ] as const;
    for (const [patch, field] of bad) {
      const res = await api(tessera, root, 'PATCH', `/clients/${client.clientId}`, patch);
      assert.equal(res.status, 400, JSON.stringify(patch));
      assert.equal(res.body.error, 'invalid_client_metadata');
      assert.ok(
        String(res.body.error_description).startsWith(`${field}: `),
        String(res.body.error_description),
      );
    }
    const view = await api(tessera, root, 'GET', `/clients/${client.clientId}`);
    assert.deepEqual(view.body.post_logout_redirect_uris, [SIGNED_OUT]);
    assert.equal(view.body.backchannel_logout_uri, receiver.url);
    const cleared = await api(tessera, root, 'PATCH', `/clients/${client.clientId}`, {
      backchannel_logout_uri: null,
    });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.body.backchannel_logout_uri, null);
  });
});
