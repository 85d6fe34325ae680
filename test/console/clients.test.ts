import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { api } from '../support/admin.js';
import { codeThroughForms } from '../support/browser.js';
import { clickAndLoad, clipboardText, consoleHarness, createClientInConsole } from '../support/chromium.js';
import { ADMIN, clientCredentials, introspect, redeemCode } from '../support/oauth.js';
import { mtlsToken } from '../support/tls.js';

const REDIRECT = 'http://127.0.0.1:9/callback';

describe('console clients', () => {
  const h = consoleHarness({ mtls: true });

  before(async () => {
    const user = await api(h.tessera, h.root, 'POST', '/users', {
      username: 'ursula',
      password: 'user-password-1234',
      role: 'member',
    });
    assert.equal(user.status, 201);
  });

  /** An authorization code for `clientId` through the real sign-in and consent forms, exchanged. */
  async function authorizationCode(clientId: string, secret: string | null) {
    const { code, verifier } = await codeThroughForms(h.tessera.url, {
      clientId,
      redirectUri: REDIRECT,
      scope: 'openid profile',
      username: 'ursula',
      password: 'user-password-1234',
    });
    assert.ok(code, 'the authorization endpoint returned a code');
    const request = { clientId, redirectUri: REDIRECT, code: code!, verifier };
    return redeemCode(h.tessera.url, request, {}, secret ? { clientId, secret } : undefined);
  }

  it('"Machine to machine" creates a client-credentials client whose secret works at /oauth/token', async () => {
    const created = await createClientInConsole(
      h.page,
      'Machine to machine',
      { Name: 'billing-worker' },
      { scopes: ['api:read'] },
    );
    assert.match(created.secret!, /^[A-Za-z0-9_-]{43,}$/);
    const token = await clientCredentials(h.tessera.url, {
      clientId: created.clientId,
      secret: created.secret!,
    });
    assert.equal(token.status, 200);
    assert.equal(token.body.scope, 'api:read');
    const view = await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`);
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
    const created = await createClientInConsole(h.page, 'Web application', {
      Name: 'web-portal',
      'Redirect URIs': REDIRECT,
      'Post-logout redirect URIs': 'https://app.example.com/signed-out\nhttps://app.example.com/bye',
      'Back-channel logout URI': 'https://app.example.com/backchannel-logout',
    });
    assert.ok(created.secret);
    const view = await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`);
    assert.deepEqual(view.body.post_logout_redirect_uris, [
      'https://app.example.com/signed-out',
      'https://app.example.com/bye',
    ]);
    assert.equal(view.body.backchannel_logout_uri, 'https://app.example.com/backchannel-logout');
    await h.page.goto(`/admin/clients/${created.clientId}`);
    const details = await h.page.locator('main').innerText();
    assert.match(
      details,
      /Post-logout redirect URIs\s+https:\/\/app\.example\.com\/signed-out\s+https:\/\/app\.example\.com\/bye/,
    );
    assert.match(details, /Back-channel logout URI\s+https:\/\/app\.example\.com\/backchannel-logout/);
    const token = await authorizationCode(created.clientId, created.secret);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.ok(token.body.refresh_token, 'the web preset includes refresh tokens');
  });

  it('"Single-page or native app" creates a public client (no secret) that completes PKCE', async () => {
    const created = await createClientInConsole(h.page, 'Single-page or native app', {
      Name: 'spa',
      'Redirect URIs': REDIRECT,
    });
    assert.equal(created.secret, null);
    const token = await authorizationCode(created.clientId, null);
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const view = await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`);
    assert.equal(view.body.client_type, 'public');
  });

  it('"Mutual TLS machine" issues a certificate whose downloads authenticate on the mTLS port', async () => {
    const created = await createClientInConsole(
      h.page,
      'Mutual TLS machine',
      { Name: 'mtls-worker' },
      { scopes: ['api:write'] },
    );
    assert.equal(created.secret, null);
    const download = async (name: string) => {
      const [file] = await Promise.all([
        h.page.waitForEvent('download'),
        h.page.getByRole('link', { name }).click(),
      ]);
      return readFile((await file.path())!, 'utf8');
    };
    const cert = await download('Download certificate');
    const key = await download('Download private key');
    assert.match(cert, /^-----BEGIN CERTIFICATE-----/);
    assert.match(key, /^-----BEGIN (RSA |EC )?PRIVATE KEY-----/);
    const token = await mtlsToken(h.tessera, created.clientId, { cert, key });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const active = await introspect(h.tessera.url, ADMIN, String(token.body.access_token));
    assert.ok(
      (active.body.cnf as Record<string, string>)['x5t#S256'],
      'the token is bound to the certificate',
    );

    // Each download works once.
    const again = await h.context.request.get(new URL(h.page.url()).pathname + '/certificate.pem');
    assert.equal(again.status(), 410);
  });

  it('"Custom" creates what the form says', async () => {
    const created = await createClientInConsole(
      h.page,
      'Custom',
      {
        Name: 'custom-post',
        'Authentication method': 'client_secret_post',
        'Access token lifetime (seconds)': '600',
      },
      { grantTypes: ['Client credentials'], scopes: ['api:read', 'api:write'] },
    );
    const token = await clientCredentials(h.tessera.url, {
      clientId: created.clientId,
      secret: created.secret!,
      method: 'post',
    });
    assert.equal(token.status, 200);
    assert.equal(token.body.expires_in, 600);
  });

  it('sets the application type and consent: a native app without a consent page', async () => {
    const created = await createClientInConsole(h.page, 'Single-page or native app', {
      Name: 'phone-app',
      'Redirect URIs': `com.example.phone:/cb\n${REDIRECT}`,
      'Application type': 'native',
      'Require consent': false,
    });
    const view = await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`);
    assert.deepEqual([view.body.application_type, view.body.require_consent], ['native', false]);
    await h.page.goto(`/admin/clients/${created.clientId}`);
    const details = await h.page.locator('dl.details').innerText();
    assert.match(details, /Application type\s+native/);
    assert.match(details, /Require consent\s+No/);
    // Signing in returns straight to the app: no consent page.
    const token = await authorizationCode(created.clientId, null);
    assert.equal(token.status, 200, JSON.stringify(token.body));

    // Editing turns consent on, with the type kept.
    await h.page.goto(`/admin/clients/${created.clientId}/edit`);
    assert.equal(await h.page.getByLabel('Application type').inputValue(), 'native');
    await h.page.getByLabel('Require consent').check();
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Save changes' }));
    const edited = await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`);
    assert.deepEqual([edited.body.application_type, edited.body.require_consent], ['native', true]);
  });

  it('shows each scope with its description', async () => {
    await h.page.goto('/admin/clients/new?preset=custom');
    const scopes = h.page.getByRole('group', { name: 'Scopes' });
    assert.match(
      await scopes
        .locator('label')
        .filter({ has: h.page.locator('input[value="clients:read"]') })
        .innerText(),
      /clients:read\s+Read the OAuth clients of the account/,
    );
  });

  it('disables and enables a client', async () => {
    const created = await createClientInConsole(h.page, 'Machine to machine', { Name: 'toggle-me' });
    const creds = { clientId: created.clientId, secret: created.secret! };
    await h.page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Disable' }));
    assert.match((await h.page.getByRole('status').textContent()) ?? '', /disabled/);
    assert.equal((await clientCredentials(h.tessera.url, creds)).status, 401);
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Enable' }));
    assert.equal((await clientCredentials(h.tessera.url, creds)).status, 200);
    await h.page.goto('/admin/clients?q=toggle-me');
    assert.equal(await h.page.locator('tbody tr .badge').textContent(), 'Enabled');
  });

  it('deletes a client once its name is typed, and its token stops working', async () => {
    const created = await createClientInConsole(h.page, 'Machine to machine', { Name: 'delete-me' });
    const token = await clientCredentials(h.tessera.url, {
      clientId: created.clientId,
      secret: created.secret!,
    });
    await h.page.goto(`/admin/clients/${created.clientId}`);
    await h.page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = h.page.getByRole('dialog');
    await dialog.getByLabel('Type the client name to confirm').fill('delete-m');
    await clickAndLoad(h.page, dialog.getByRole('button', { name: 'Delete client' }));
    assert.match((await h.page.getByRole('alert').textContent()) ?? '', /does not match/);
    assert.equal((await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`)).status, 200);
    await h.page.getByLabel('Type the client name to confirm').fill('delete-me');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Delete client' }));
    assert.equal(new URL(h.page.url()).pathname, '/admin/clients');
    assert.equal((await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`)).status, 404);
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, String(token.body.access_token))).body, {
      active: false,
    });
  });

  it('keeps what was typed and shows the refusal next to its field', async () => {
    await h.page.goto('/admin/clients/new?preset=web');
    await h.page.getByLabel('Name', { exact: true }).fill('typed-name');
    await h.page.getByLabel('Description').fill('kept description');
    await h.page.getByLabel('Redirect URIs', { exact: true }).fill('http://app.example.com/callback');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Create client' }));
    assert.equal(await h.page.getByLabel('Name', { exact: true }).inputValue(), 'typed-name');
    assert.equal(await h.page.getByLabel('Description').inputValue(), 'kept description');
    assert.equal(
      await h.page.getByLabel('Redirect URIs', { exact: true }).inputValue(),
      'http://app.example.com/callback',
    );
    assert.equal(
      await h.page.locator('#redirect_uris-error').textContent(),
      '"http://app.example.com/callback" must use https (plain http only for loopback hosts)',
    );
    assert.equal(
      await h.page.getByLabel('Redirect URIs', { exact: true }).getAttribute('aria-invalid'),
      'true',
    );

    await h.page.getByLabel('Redirect URIs', { exact: true }).fill(REDIRECT);
    await h.page.getByLabel('Access token lifetime (seconds)').fill('5');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Create client' }));
    assert.equal(
      await h.page.locator('#access_token_ttl-error').textContent(),
      'access_token_ttl must be between 60 and 86400',
    );
    assert.equal(await h.page.getByLabel('Access token lifetime (seconds)').inputValue(), '5');
    assert.ok(
      await h.page.getByRole('group', { name: 'Grant types' }).getByLabel('Refresh token').isChecked(),
    );

    // A post-logout redirect URI follows the redirect URI rules, and is shown at its field.
    await h.page.getByLabel('Access token lifetime (seconds)').fill('');
    await h.page.getByLabel('Post-logout redirect URIs').fill('http://app.example.com/out');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Create client' }));
    assert.equal(
      await h.page.locator('#post_logout_redirect_uris-error').textContent(),
      'post_logout_redirect_uris: "http://app.example.com/out" must use https (plain http only for loopback hosts)',
    );
    assert.equal(
      await h.page.getByLabel('Post-logout redirect URIs').inputValue(),
      'http://app.example.com/out',
    );
    await h.page.getByLabel('Post-logout redirect URIs').fill('');

    // A duplicate name is shown at the name.
    await h.page.getByLabel('Access token lifetime (seconds)').fill('');
    await h.page.getByLabel('Name', { exact: true }).fill('billing-worker');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Create client' }));
    assert.equal(
      await h.page.locator('#client_name-error').textContent(),
      'a client with this client_name exists in the account',
    );
    const names = ((await api(h.tessera, h.root, 'GET', '/clients?q=typed-name')).body.data as unknown[])
      .length;
    assert.equal(names, 0, 'nothing was created');
  });

  it("shows the client's usage of the last day as a chart", async () => {
    const created = await createClientInConsole(h.page, 'Machine to machine', { Name: 'charted' });
    const creds = { clientId: created.clientId, secret: created.secret! };
    for (let i = 0; i < 2; i += 1) assert.equal((await clientCredentials(h.tessera.url, creds)).status, 200);
    assert.equal((await clientCredentials(h.tessera.url, { ...creds, secret: 'wrong' })).status, 401);
    await h.page.goto(`/admin/clients/${created.clientId}`);
    assert.match(
      (await h.page
        .locator('section')
        .filter({ has: h.page.getByRole('heading', { name: 'Usage' }) })
        .innerText())!,
      /Last 24 hours: 2 tokens issued, 1 failed authentications\./,
    );
    const chart = h.page.getByRole('img', { name: /^Usage/ });
    assert.equal(await chart.locator('g').count(), 24);
  });

  it('edits a client, and lists its events with actors by username', async () => {
    const created = await createClientInConsole(h.page, 'Machine to machine', { Name: 'edit-me' });
    await h.page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Edit' }));
    await h.page.getByLabel('Description').fill('now described');
    await h.page.getByLabel('Access token lifetime (seconds)').fill('900');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Save changes' }));
    assert.equal(new URL(h.page.url()).pathname, `/admin/clients/${created.clientId}`);
    const view = await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`);
    assert.equal(view.body.description, 'now described');
    assert.equal(view.body.access_token_ttl, 900);
    const events = h.page.getByRole('table', { name: 'Events' });
    const actions = await events.locator('tbody tr td:nth-child(3)').allTextContents();
    assert.deepEqual(actions, ['client.update', 'client.create']);
    // The log keeps user:<id>; the console names the user.
    assert.deepEqual(await events.locator('tbody tr td:nth-child(2)').allTextContents(), ['admin', 'admin']);
  });

  it('searches, filters and pages over 30 clients, with a copy button for each client id', async () => {
    for (let i = 0; i < 30; i += 1) {
      const created = await api(h.tessera, h.root, 'POST', '/clients', {
        client_name: `fleet-${String(i).padStart(2, '0')}`,
        grant_types: ['client_credentials'],
      });
      assert.equal(created.status, 201);
    }
    await h.page.goto('/admin/clients');
    await h.page.getByLabel('Search').fill('fleet');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Filter' }));
    const names = () => h.page.locator('tbody tr td:first-child').allTextContents();
    const first = await names();
    assert.equal(first.length, 25);
    assert.equal(first[0], 'fleet-29');
    await clickAndLoad(h.page, h.page.getByRole('link', { name: 'Next page' }));
    assert.deepEqual(await names(), ['fleet-04', 'fleet-03', 'fleet-02', 'fleet-01', 'fleet-00']);
    assert.equal(await h.page.getByRole('link', { name: 'Next page' }).count(), 0);

    await h.page.goto('/admin/clients?q=fleet-1');
    assert.equal((await names()).length, 10);
    const firstId = await h.page.locator('tbody tr').first().locator('code').textContent();
    await h.page.locator('tbody tr').first().getByRole('button', { name: 'Copy' }).click();
    assert.equal(await clipboardText(h.page), firstId);

    await h.page.goto('/admin/clients');
    await h.page.getByLabel('Grant type').selectOption('authorization_code');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Filter' }));
    assert.deepEqual((await names()).sort(), ['Tessera console', 'phone-app', 'spa', 'web-portal']);
    await h.page.getByLabel('Grant type').selectOption('');
    await h.page.getByLabel('Status').selectOption('disabled');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Filter' }));
    assert.deepEqual(await names(), []);
  });
});
