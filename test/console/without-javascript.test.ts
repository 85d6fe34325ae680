import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { api } from '../support/admin.js';
import {
  clickAndLoad,
  consoleHarness,
  createClientInConsole,
  newContext,
  signIn,
} from '../support/chromium.js';
import { clientCredentials, introspect, ADMIN } from '../support/oauth.js';

describe('console without JavaScript', () => {
  const h = consoleHarness();

  it('signs in, creates a client, adds and revokes a secret and deletes the client with the forms alone', async () => {
    const context = await newContext(h.browser, h.tessera.url, { javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, 'admin', 'test-admin-password');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Clients');

    const created = await createClientInConsole(
      page,
      'Machine to machine',
      { Name: 'no-script' },
      { scopes: ['api:read'] },
    );
    // Copy buttons need the script: without it they are not offered.
    assert.equal(await page.getByRole('button', { name: 'Copy' }).count(), 0);
    const token = await clientCredentials(h.tessera.url, {
      clientId: created.clientId,
      secret: created.secret!,
    });
    assert.equal(token.status, 200);

    // A second secret, and revoking the first, are plain forms too.
    await page.goto(`/admin/clients/${created.clientId}`);
    await page.getByLabel('Label').fill('no-script secret');
    await clickAndLoad(page, page.getByRole('button', { name: 'Add secret' }));
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Secret added');
    const second = {
      clientId: created.clientId,
      secret: await page.getByLabel('Client secret').inputValue(),
    };
    await page.goto(`/admin/clients/${created.clientId}`);
    const first = page.getByRole('table', { name: 'Secrets' }).locator('tbody tr').nth(1);
    await clickAndLoad(page, first.getByRole('button', { name: 'Revoke' }));
    assert.equal(
      (await clientCredentials(h.tessera.url, { clientId: created.clientId, secret: created.secret! }))
        .status,
      401,
    );
    assert.equal((await clientCredentials(h.tessera.url, second)).status, 200);

    await page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(page, page.getByRole('button', { name: 'Delete', exact: true }));
    assert.equal(new URL(page.url()).pathname, `/admin/clients/${created.clientId}/delete`);
    await page.getByLabel('Type the client name to confirm').fill('no-script');
    await clickAndLoad(page, page.getByRole('button', { name: 'Delete client' }));
    assert.equal(new URL(page.url()).pathname, '/admin/clients');
    assert.equal((await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`)).status, 404);
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, String(token.body.access_token))).body, {
      active: false,
    });
    await context.close();
  });

  it('fills the form from a preset by reloading it', async () => {
    const context = await newContext(h.browser, h.tessera.url, { javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, 'admin', 'test-admin-password');
    await page.goto('/admin/clients/new');
    await clickAndLoad(page, page.getByRole('button', { name: 'Mutual TLS machine' }));
    assert.equal(await page.getByLabel('Authentication method').inputValue(), 'tls_client_auth');
    assert.ok(await page.getByLabel('Certificate-bound tokens').isChecked());
    assert.ok(
      await page.getByRole('group', { name: 'Grant types' }).getByLabel('Client credentials').isChecked(),
    );
    await clickAndLoad(page, page.getByRole('button', { name: 'Single-page or native app' }));
    assert.equal(await page.getByLabel('Authentication method').inputValue(), 'none');
    assert.ok(
      await page.getByRole('group', { name: 'Grant types' }).getByLabel('Authorization code').isChecked(),
    );
    assert.ok(!(await page.getByLabel('Certificate-bound tokens').isChecked()));
    await context.close();
  });
});
