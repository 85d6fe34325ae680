import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { authorizePath, Browser, pkce } from '../support/browser.js';
import {
  ADMIN,
  basic,
  clientCredentials,
  introspect,
  postForm,
  redeemCode,
  type Credentials,
} from '../support/oauth.js';
import { startTessera, tempDir, type RunningTessera } from '../support/tessera.js';

const REDIRECT = 'https://app.example.com/callback';
const API_SCOPES = ['api', 'api:read', 'api:write', 'api:delete', 'api:admin'];

/** Starts Tessera with `catalog` as its `TESSERA_SCOPES_FILE`. */
async function withCatalog(catalog: unknown): Promise<RunningTessera> {
  const dir = tempDir('tessera-catalog-');
  const file = path.join(dir.dir, 'scopes.json');
  writeFileSync(file, JSON.stringify(catalog));
  const tessera = await startTessera({ env: { TESSERA_SCOPES_FILE: file } });
  return { ...tessera, close: async () => (await tessera.close(), dir.remove()) };
}

async function machine(tessera: RunningTessera, name: string, scope: string): Promise<Credentials> {
  const created = await api(tessera, await tokenFor(tessera.url), 'POST', '/clients', {
    client_name: name,
    scope,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return credentialsOf(created);
}

/** The granted scope of a client-credentials request, checked against introspection too. */
async function granted(tessera: RunningTessera, creds: Credentials, scope?: string): Promise<string> {
  const res = await clientCredentials(tessera.url, creds, scope === undefined ? {} : { scope });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const info = await introspect(tessera.url, ADMIN, String(res.body.access_token));
  assert.equal(info.body.scope, res.body.scope, 'introspection shows the same scope');
  return String(res.body.scope);
}

describe('scope catalog: one scope implying a family (api → api:read|write|delete|admin)', () => {
  let tessera: RunningTessera;

  before(async () => {
    tessera = await withCatalog({
      scopes: [
        {
          name: 'api',
          description: 'Full access',
          implies: ['api:read', 'api:write', 'api:delete', 'api:admin'],
        },
        { name: 'api:read', description: 'Read data' },
        { name: 'api:write', description: 'Write data' },
        { name: 'api:delete', description: 'Delete data' },
        { name: 'api:admin', description: 'Administer the API' },
      ],
    });
  });
  after(async () => tessera.close());

  it('lists the built-in scopes and the catalog in scopes_supported', async () => {
    const metadata = (await (
      await fetch(`${tessera.url}/.well-known/oauth-authorization-server`)
    ).json()) as {
      scopes_supported: string[];
    };
    assert.deepEqual(metadata.scopes_supported.slice(-5), API_SCOPES);
    assert.ok(metadata.scopes_supported.includes('openid'));
  });

  it('grants client credentials the requested scopes and everything they imply, in catalog order', async () => {
    const creds = await machine(tessera, 'family', 'api');
    assert.equal(await granted(tessera, creds), API_SCOPES.join(' '), 'no scope: all allowed, expanded');
    assert.equal(await granted(tessera, creds, 'api'), API_SCOPES.join(' '));
    assert.equal(await granted(tessera, creds, 'api:read'), 'api:read', 'an implied scope alone');
    assert.equal(await granted(tessera, creds, 'api:write api:read'), 'api:read api:write');
  });

  it('refuses scopes outside the closure with invalid_scope', async () => {
    const reader = await machine(tessera, 'reader', 'api:read');
    for (const scope of ['api', 'api:write', 'api:read api:delete', 'unknown:scope', 'admin']) {
      const res = await clientCredentials(tessera.url, reader, { scope });
      assert.equal(res.status, 400, scope);
      assert.equal(res.body.error, 'invalid_scope', scope);
    }
    assert.equal(await granted(tessera, reader), 'api:read');
  });

  it('refuses an allowed scope the catalog does not offer when the client is registered', async () => {
    const res = await api(tessera, await tokenFor(tessera.url), 'POST', '/clients', {
      client_name: 'old scope',
      scope: 'api:write api:export',
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'invalid_client_metadata',
      error_description: 'scope "api:export" is not offered by this server',
    });
  });

  it('does not let a catalog scope act in the admin API', async () => {
    const token = await tokenFor(tessera.url, await machine(tessera, 'outsider', 'api'));
    const res = await api(tessera, token, 'GET', '/clients');
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'insufficient_scope');
  });

  describe('authorization code and refresh', () => {
    let web: Credentials;
    const user = { username: 'ulla', password: 'ulla password 1' };

    before(async () => {
      const root = await tokenFor(tessera.url);
      const created = await api(tessera, root, 'POST', '/clients', {
        client_name: 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [REDIRECT],
        scope: 'openid api',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      web = credentialsOf(created);
      await api(tessera, root, 'POST', '/users', { ...user, role: 'member' });
    });

    const authorizeUrl = (challenge: string, scope: string) =>
      authorizePath({ clientId: web.clientId, redirectUri: REDIRECT, scope, challenge });

    /** Runs the flow in `browser` through sign-in (and consent when asked); returns the code. */
    async function codeFor(browser: Browser, first: Promise<import('../support/browser.js').Page>) {
      let page = await first;
      if (page.html.includes('/login"')) page = await browser.submit(page, '/login', user);
      if (page.html.includes('/confirm"')) page = await browser.submit(page, '/confirm');
      assert.ok(page.location?.startsWith(REDIRECT), page.html);
      return new URL(page.location!).searchParams.get('code')!;
    }

    const redeem = (code: string, verifier: string) =>
      redeemCode(tessera.url, { clientId: web.clientId, redirectUri: REDIRECT, code, verifier }, {}, web);
    const refresh = (token: unknown, scope?: string) =>
      postForm(
        `${tessera.url}/oauth/token`,
        { grant_type: 'refresh_token', refresh_token: String(token), ...(scope ? { scope } : {}) },
        basic(web.clientId, web.secret),
      );

    it('asks consent for the scope and what it implies, with descriptions, and grants all of it', async () => {
      const browser = new Browser(tessera.url);
      const { verifier, challenge } = pkce();
      const login = await browser.follow(authorizeUrl(challenge, 'openid api'));
      const consent = await browser.submit(login, '/login', user);
      assert.equal(consent.status, 200);
      const listed = [...consent.html.matchAll(/<li><strong>([^<]+)<\/strong>: ([^<]+)<\/li>/g)].map(
        (m) => `${m[1]}: ${m[2]}`,
      );
      assert.deepEqual(listed, [
        'openid: Sign the user in (OpenID Connect)',
        'api: Full access',
        'api:read: Read data',
        'api:write: Write data',
        'api:delete: Delete data',
        'api:admin: Administer the API',
      ]);
      const code = await codeFor(browser, browser.submit(consent, '/confirm'));
      const tokens = await redeem(code, verifier);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.equal(tokens.body.scope, ['openid', ...API_SCOPES].join(' '));
      const info = await introspect(tessera.url, web, String(tokens.body.access_token));
      assert.equal(info.body.scope, ['openid', ...API_SCOPES].join(' '));

      const renewed = await refresh(tokens.body.refresh_token);
      assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
      assert.equal(renewed.body.scope, ['openid', ...API_SCOPES].join(' '), 'refresh keeps the expansion');
      const narrowed = await refresh(renewed.body.refresh_token, 'api');
      assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body));
      assert.equal(narrowed.body.scope, API_SCOPES.join(' '), 'a narrowing refresh expands too');
      const reading = await refresh(narrowed.body.refresh_token, 'api:read');
      assert.equal(reading.body.scope, 'api:read');
      const info2 = await introspect(tessera.url, web, String(reading.body.access_token));
      assert.equal(info2.body.scope, 'api:read');
    });

    it('grants an implied scope asked for alone, and expands a pushed authorization request too', async () => {
      const browser = new Browser(tessera.url);
      const alone = pkce();
      const code = await codeFor(browser, browser.follow(authorizeUrl(alone.challenge, 'api:write')));
      assert.equal((await redeem(code, alone.verifier)).body.scope, 'api:write');

      // A new sign-in session, so the grant holds only what this request asks for.
      const other = new Browser(tessera.url);
      const pushed = pkce();
      const par = await postForm(
        `${tessera.url}/oauth/par`,
        Object.fromEntries(new URL(authorizeUrl(pushed.challenge, 'api'), tessera.url).searchParams),
        basic(web.clientId, web.secret),
      );
      assert.equal(par.status, 201, JSON.stringify(par.body));
      const query = new URLSearchParams({
        client_id: web.clientId,
        request_uri: String(par.body.request_uri),
      });
      const parCode = await codeFor(other, other.follow(`/oauth/authorize?${query}`));
      assert.equal((await redeem(parCode, pushed.verifier)).body.scope, API_SCOPES.join(' '));
    });

    it('refuses a scope outside the closure at the authorization endpoint', async () => {
      const browser = new Browser(tessera.url, REDIRECT);
      const page = await browser.follow(authorizeUrl(pkce().challenge, 'openid admin'));
      assert.equal(page.status, 303);
      assert.equal(new URL(page.location!).searchParams.get('error'), 'invalid_scope');
    });
  });
});

describe('scope catalog: per-entity operations with upsert and all', () => {
  const OPERATIONS = [
    'read',
    'create',
    'update',
    'upsert',
    'delete',
    'definitions:read',
    'definitions:upsert',
    'all',
  ];
  const entity = (name: string) =>
    OPERATIONS.map((operation) => ({
      name: `${name}:${operation}`,
      description: `${operation} on ${name}`,
      ...(operation === 'upsert' ? { implies: [`${name}:create`, `${name}:update`] } : {}),
      ...(operation === 'definitions:upsert' ? { implies: [`${name}:definitions:read`] } : {}),
      ...(operation === 'all' ? { implies: [`${name}:*`] } : {}),
    }));
  let tessera: RunningTessera;

  before(async () => {
    tessera = await withCatalog({ scopes: [...entity('account'), ...entity('contact')] });
  });
  after(async () => tessera.close());

  it('grants every operation under :all, create and update under :upsert, and implied scopes alone', async () => {
    const creds = await machine(tessera, 'sync', 'account:all contact:upsert');
    const everyAccount = OPERATIONS.map((operation) => `account:${operation}`);
    assert.equal(
      await granted(tessera, creds),
      [...everyAccount, 'contact:create', 'contact:update', 'contact:upsert'].join(' '),
    );
    assert.equal(await granted(tessera, creds, 'account:all'), everyAccount.join(' '));
    assert.equal(
      await granted(tessera, creds, 'account:read'),
      'account:read',
      'account:all allows account:read',
    );
    assert.equal(
      await granted(tessera, creds, 'account:definitions:upsert contact:upsert'),
      'account:definitions:read account:definitions:upsert contact:create contact:update contact:upsert',
    );
    assert.equal(await granted(tessera, creds, 'contact:update'), 'contact:update');
    for (const scope of ['contact:delete', 'contact:all', 'contact:read']) {
      const res = await clientCredentials(tessera.url, creds, { scope });
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_scope'], scope);
    }
  });
});
