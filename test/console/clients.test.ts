import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { api, tokenFor } from '../support/admin.js';
import { codeThroughForms } from '../support/browser.js';
import {
  clickAndLoad,
  clipboardText,
  createClientInConsole,
  launchChromium,
  newContext,
  signIn,
} from '../support/chromium.js';
import { ADMIN, basic, clientCredentials, introspect, postForm } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';
import { mtlsToken } from '../support/tls.js';

const ADMIN_PASSWORD = 'test-admin-password';
const REDIRECT = 'http://127.0.0.1:9/callback';

describe('console clients', () => {
  let tessera: RunningTessera;
  let browser: Browser & { dispose(): Promise<void> };
  let context: BrowserContext;
  let page: Page;
  let root: string;

  before(async () => {
    tessera = await startTessera({ mtls: true });
    browser = await launchChromium();
    root = await tokenFor(tessera.url);
    const user = await api(tessera, root, 'POST', '/users', {
      username: 'ursula',
      password: 'user-password-1234',
      role: 'member',
    });
    assert.equal(user.status, 201);
    context = await newContext(browser, tessera.url);
    page = await context.newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
  });

  after(async () => {
    await browser?.dispose();
    await tessera?.close();
  });

  /** An authorization code for `clientId` through the real sign-in and consent forms, exchanged. */
  async function authorizationCode(clientId: string, secret: string | null) {
    const { code, verifier } = await codeThroughForms(tessera.url, {
      clientId,
      redirectUri: REDIRECT,
      scope: 'openid profile',
      username: 'ursula',
      password: 'user-password-1234',
    });
    assert.ok(code, 'the authorization endpoint returned a code');
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier };
    return secret
      ? postForm(`${tessera.url}/oauth/token`, form, basic(clientId, secret))
      : postForm(`${tessera.url}/oauth/token`, { ...form, client_id: clientId });
  }

  it('"Machine to machine" creates a client-credentials client whose secret works at /oauth/token', async () => {
    const created = await createClientInConsole(
      page,
      'Machine to machine',
      { Name: 'billing-worker' },
      { scopes: ['api:read'] },
    );
    assert.match(created.secret!, /^[A-Za-z0-9_-]{43,}$/);
    const token = await clientCredentials(tessera.url, {
      clientId: created.clientId,
      secret: created.secret!,
    });
    assert.equal(token.status, 200);
    assert.equal(token.body.scope, 'api:read');
    const view = await api(tessera, root, 'GET', `/clients/${created.clientId}`);
    assert.deepEqual(
      {
        grant_types: view.body.grant_types,
        method: view.body.token_endpoint_auth_method,
        scope: view.body.scope,
      },
      { grant_types: ['client_credentials'], method: 'client_secret_basic', scope: 'api:read' },
    );
  });

  it('"Web application" creates a confidential client that completes authorization code + PKCE', async () => {
    const created = await createClientInConsole(page, 'Web application', {
      Name: 'web-portal',
      'Redirect URIs': REDIRECT,
    });
    assert.ok(created.secret);
    const token = await authorizationCode(created.clientId, created.secret);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.ok(token.body.refresh_token, 'the web preset includes refresh tokens');
  });

  it('"Single-page or native app" creates a public client (no secret) that completes PKCE', async () => {
    const created = await createClientInConsole(page, 'Single-page or native app', {
      Name: 'spa',
      'Redirect URIs': REDIRECT,
    });
    assert.equal(created.secret, null);
    const token = await authorizationCode(created.clientId, null);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const view = await api(tessera, root, 'GET', `/clients/${created.clientId}`);
    assert.equal(view.body.client_type, 'public');
  });

  it('"Mutual TLS machine" issues a certificate whose downloads authenticate on the mTLS port', async () => {
    const created = await createClientInConsole(
      page,
      'Mutual TLS machine',
      { Name: 'mtls-worker' },
      { scopes: ['api:write'] },
    );
    assert.equal(created.secret, null);
    const download = async (name: string) => {
      const [file] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name }).click(),
      ]);
      return readFile((await file.path())!, 'utf8');
    };
    const cert = await download('Download certificate');
    const key = await download('Download private key');
    assert.match(cert, /^-----BEGIN CERTIFICATE-----/);
    assert.match(key, /^-----BEGIN (RSA |EC )?PRIVATE KEY-----/);
    const token = await mtlsToken(tessera, created.clientId, { cert, key });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const active = await introspect(tessera.url, ADMIN, String(token.body.access_token));
    assert.ok(
      (active.body.cnf as Record<string, string>)['x5t#S256'],
      'the token is bound to the certificate',
    );

    // Each download works once.
    const again = await context.request.get(new URL(page.url()).pathname + '/certificate.pem');
    assert.equal(again.status(), 410);
  });

  it('"Custom" creates what the form says', async () => {
    const created = await createClientInConsole(
      page,
      'Custom',
      {
        Name: 'custom-post',
        'Authentication method': 'client_secret_post',
        'Access token lifetime (seconds)': '600',
      },
      { grantTypes: ['Client credentials'], scopes: ['api:read', 'api:write'] },
    );
    const token = await clientCredentials(tessera.url, {
      clientId: created.clientId,
      secret: created.secret!,
      method: 'post',
    });
    assert.equal(token.status, 200);
    assert.equal(token.body.expires_in, 600);
  });

  it('shows the secret once: a reload shows it no more; "Copy" puts it on the clipboard', async () => {
    const created = await createClientInConsole(page, 'Machine to machine', { Name: 'copy-me' });
    const response = await page.reload();
    assert.equal(response!.status(), 410);
    assert.equal(await page.getByLabel('Client secret').count(), 0);
    assert.ok(!(await page.content()).includes(created.secret!));
    await page.goBack();
    assert.ok(!(await page.content()).includes(created.secret!));

    // A new page with a secret, then Copy.
    await page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(page, page.getByRole('button', { name: 'Rotate secret' }));
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Secret rotated');
    assert.equal(
      (await page.request.get(page.url(), { maxRedirects: 0 })).headers()['cache-control'],
      'no-store',
    );
    const secret = await page.getByLabel('Client secret').inputValue();
    await page
      .locator('.copyable')
      .filter({ has: page.getByLabel('Client secret') })
      .getByRole('button', { name: 'Copy' })
      .click();
    assert.equal(await clipboardText(page), secret);
  });

  it('rotation makes the old secret fail at the token endpoint', async () => {
    const created = await createClientInConsole(page, 'Machine to machine', { Name: 'rotate-me' });
    assert.equal(
      (await clientCredentials(tessera.url, { clientId: created.clientId, secret: created.secret! })).status,
      200,
    );
    await page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(page, page.getByRole('button', { name: 'Rotate secret' }));
    const fresh = await page.getByLabel('Client secret').inputValue();
    assert.notEqual(fresh, created.secret);
    assert.equal(
      (await clientCredentials(tessera.url, { clientId: created.clientId, secret: created.secret! })).status,
      401,
    );
    assert.equal(
      (await clientCredentials(tessera.url, { clientId: created.clientId, secret: fresh })).status,
      200,
    );
  });

  it('disables and enables a client', async () => {
    const created = await createClientInConsole(page, 'Machine to machine', { Name: 'toggle-me' });
    const creds = { clientId: created.clientId, secret: created.secret! };
    await page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(page, page.getByRole('button', { name: 'Disable' }));
    assert.match((await page.getByRole('status').textContent()) ?? '', /disabled/);
    assert.equal((await clientCredentials(tessera.url, creds)).status, 401);
    await clickAndLoad(page, page.getByRole('button', { name: 'Enable' }));
    assert.equal((await clientCredentials(tessera.url, creds)).status, 200);
    await page.goto('/admin/clients?q=toggle-me');
    assert.equal(await page.locator('tbody tr .badge').textContent(), 'Enabled');
  });

  it('deletes a client once its name is typed, and its token stops working', async () => {
    const created = await createClientInConsole(page, 'Machine to machine', { Name: 'delete-me' });
    const token = await clientCredentials(tessera.url, {
      clientId: created.clientId,
      secret: created.secret!,
    });
    await page.goto(`/admin/clients/${created.clientId}`);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Type the client name to confirm').fill('delete-m');
    await clickAndLoad(page, dialog.getByRole('button', { name: 'Delete client' }));
    assert.match((await page.getByRole('alert').textContent()) ?? '', /does not match/);
    assert.equal((await api(tessera, root, 'GET', `/clients/${created.clientId}`)).status, 200);
    await page.getByLabel('Type the client name to confirm').fill('delete-me');
    await clickAndLoad(page, page.getByRole('button', { name: 'Delete client' }));
    assert.equal(new URL(page.url()).pathname, '/admin/clients');
    assert.equal((await api(tessera, root, 'GET', `/clients/${created.clientId}`)).status, 404);
    assert.deepEqual((await introspect(tessera.url, ADMIN, String(token.body.access_token))).body, {
      active: false,
    });
  });

  it('keeps what was typed and shows the refusal next to its field', async () => {
    await page.goto('/admin/clients/new?preset=web');
    await page.getByLabel('Name', { exact: true }).fill('typed-name');
    await page.getByLabel('Description').fill('kept description');
    await page.getByLabel('Redirect URIs').fill('http://app.example.com/callback');
    await clickAndLoad(page, page.getByRole('button', { name: 'Create client' }));
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'typed-name');
    assert.equal(await page.getByLabel('Description').inputValue(), 'kept description');
    assert.equal(await page.getByLabel('Redirect URIs').inputValue(), 'http://app.example.com/callback');
    assert.equal(
      await page.locator('#redirect_uris-error').textContent(),
      '"http://app.example.com/callback" must use https (plain http only for loopback hosts)',
    );
    assert.equal(await page.getByLabel('Redirect URIs').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('Redirect URIs').fill(REDIRECT);
    await page.getByLabel('Access token lifetime (seconds)').fill('5');
    await clickAndLoad(page, page.getByRole('button', { name: 'Create client' }));
    assert.equal(
      await page.locator('#access_token_ttl-error').textContent(),
      'access_token_ttl must be between 60 and 86400',
    );
    assert.equal(await page.getByLabel('Access token lifetime (seconds)').inputValue(), '5');
    assert.ok(await page.getByRole('group', { name: 'Grant types' }).getByLabel('Refresh token').isChecked());

    // A duplicate name is shown at the name.
    await page.getByLabel('Access token lifetime (seconds)').fill('');
    await page.getByLabel('Name', { exact: true }).fill('billing-worker');
    await clickAndLoad(page, page.getByRole('button', { name: 'Create client' }));
    assert.equal(
      await page.locator('#client_name-error').textContent(),
      'a client with this client_name exists in the account',
    );
    const names = ((await api(tessera, root, 'GET', '/clients?q=typed-name')).body.data as unknown[]).length;
    assert.equal(names, 0, 'nothing was created');
  });

  it('edits a client, and lists its events', async () => {
    const created = await createClientInConsole(page, 'Machine to machine', { Name: 'edit-me' });
    await page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(page, page.getByRole('button', { name: 'Edit' }));
    await page.getByLabel('Description').fill('now described');
    await page.getByLabel('Access token lifetime (seconds)').fill('900');
    await clickAndLoad(page, page.getByRole('button', { name: 'Save changes' }));
    assert.equal(new URL(page.url()).pathname, `/admin/clients/${created.clientId}`);
    const view = await api(tessera, root, 'GET', `/clients/${created.clientId}`);
    assert.equal(view.body.description, 'now described');
    assert.equal(view.body.access_token_ttl, 900);
    const events = page.getByRole('table', { name: 'Events' });
    const actions = await events.locator('tbody tr td:nth-child(3)').allTextContents();
    assert.deepEqual(actions, ['client.update', 'client.create']);
    const admin = await api(tessera, root, 'GET', '/users?limit=100');
    const adminId = (admin.body.data as { id: string; username: string }[]).find(
      (u) => u.username === 'admin',
    )!.id;
    assert.deepEqual(await events.locator('tbody tr td:nth-child(2)').allTextContents(), [
      `user:${adminId}`,
      `user:${adminId}`,
    ]);
  });

  it('searches, filters and pages over 30 clients, with a copy button for each client id', async () => {
    for (let i = 0; i < 30; i += 1) {
      const created = await api(tessera, root, 'POST', '/clients', {
        client_name: `fleet-${String(i).padStart(2, '0')}`,
        grant_types: ['client_credentials'],
      });
      assert.equal(created.status, 201);
    }
    await page.goto('/admin/clients');
    await page.getByLabel('Search').fill('fleet');
    await clickAndLoad(page, page.getByRole('button', { name: 'Filter' }));
    const names = () => page.locator('tbody tr td:first-child').allTextContents();
    const first = await names();
    assert.equal(first.length, 25);
    assert.equal(first[0], 'fleet-29');
    await clickAndLoad(page, page.getByRole('link', { name: 'Next page' }));
    assert.deepEqual(await names(), ['fleet-04', 'fleet-03', 'fleet-02', 'fleet-01', 'fleet-00']);
    assert.equal(await page.getByRole('link', { name: 'Next page' }).count(), 0);

    await page.goto('/admin/clients?q=fleet-1');
    assert.equal((await names()).length, 10);
    const firstId = await page.locator('tbody tr').first().locator('code').textContent();
    await page.locator('tbody tr').first().getByRole('button', { name: 'Copy' }).click();
    assert.equal(await clipboardText(page), firstId);

    await page.goto('/admin/clients');
    await page.getByLabel('Grant type').selectOption('authorization_code');
    await clickAndLoad(page, page.getByRole('button', { name: 'Filter' }));
    assert.deepEqual((await names()).sort(), ['Tessera console', 'spa', 'web-portal']);
    await page.getByLabel('Grant type').selectOption('');
    await page.getByLabel('Status').selectOption('disabled');
    await clickAndLoad(page, page.getByRole('button', { name: 'Filter' }));
    assert.deepEqual(await names(), []);
  });
});
