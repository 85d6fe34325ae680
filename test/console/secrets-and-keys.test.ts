import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { api } from '../support/admin.js';
import { clickAndLoad, consoleHarness, createClientInConsole } from '../support/chromium.js';
import { ADMIN, clientCredentials, introspect } from '../support/oauth.js';

describe('console secrets and signing keys', () => {
  const h = consoleHarness();

  it("groups the client page: details with the client's own actions, then credentials, usage and events", async () => {
    const created = await createClientInConsole(h.page, 'Machine to machine', { Name: 'grouped' });
    await h.page.goto(`/admin/clients/${created.clientId}`);
    const top = h.page.getByRole('region', { name: 'Details' });
    for (const name of ['Edit', 'Disable', 'Delete']) {
      assert.equal(await top.getByRole('button', { name }).count(), 1, name);
    }
    assert.equal(await top.getByRole('button', { name: 'Rotate secret' }).count(), 0);
    const credentials = h.page.getByRole('region', { name: 'Credentials' });
    assert.equal(await credentials.getByRole('button', { name: 'Rotate secret' }).count(), 1);
    assert.equal(await credentials.getByLabel('Keep the old secret working for (seconds)').count(), 1);
    assert.equal(await credentials.getByRole('table', { name: 'Secrets' }).count(), 1);
    const regions = h.page.locator('main section[aria-labelledby] > h2');
    assert.deepEqual(await regions.allTextContents(), ['Details', 'Credentials', 'Usage', 'Events']);
  });

  it('adds a secret shown once, lists it, and revokes one with its tokens', async () => {
    const created = await createClientInConsole(h.page, 'Machine to machine', { Name: 'two secrets' });
    const first = { clientId: created.clientId, secret: created.secret! };
    await h.page.goto(`/admin/clients/${created.clientId}`);
    const table = h.page.getByRole('table', { name: 'Secrets' });
    assert.deepEqual((await table.locator('thead th').allTextContents()).slice(0, 5), [
      'Label',
      'Hint',
      'Created',
      'Expires',
      'Last used',
    ]);
    assert.equal(await table.locator('tbody tr').count(), 1);
    assert.equal(await table.locator('tbody tr td').nth(1).textContent(), `${first.secret.slice(0, 4)}…`);

    // A refused expiry stays in its field with the API's words, and adds nothing.
    await h.page.getByLabel('Label').fill('deploy 42');
    await h.page.getByLabel('Expires in (seconds)').fill('30');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Add secret' }));
    assert.equal(
      await h.page.locator('#add-secret-error').textContent(),
      'expires_in: must be between 60 and 315360000 seconds',
    );
    assert.equal(await h.page.getByLabel('Label').inputValue(), 'deploy 42');
    assert.equal(await h.page.getByLabel('Expires in (seconds)').inputValue(), '30');
    assert.equal(await table.locator('tbody tr').count(), 1);

    await h.page.getByLabel('Expires in (seconds)').fill('3600');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Add secret' }));
    assert.equal(await h.page.getByRole('heading', { level: 1 }).textContent(), 'Secret added');
    const second = { ...first, secret: await h.page.getByLabel('Client secret').inputValue() };
    await h.page.reload();
    assert.equal(await h.page.getByLabel('Client secret').count(), 0, 'shown once');
    assert.equal((await clientCredentials(h.tessera.url, second)).status, 200);
    const firstToken = String((await clientCredentials(h.tessera.url, first)).body.access_token);

    await h.page.goto(`/admin/clients/${created.clientId}`);
    const rows = table.locator('tbody tr');
    assert.equal(await rows.count(), 2);
    assert.equal(await rows.first().locator('td').first().textContent(), 'deploy 42');
    const unlabelled = rows.nth(1);
    await unlabelled.getByLabel('Also revoke its tokens').check();
    await clickAndLoad(h.page, unlabelled.getByRole('button', { name: 'Revoke' }));
    assert.equal(await h.page.getByRole('status').textContent(), 'The secret no longer works.');
    assert.equal(await rows.count(), 1);
    assert.equal((await clientCredentials(h.tessera.url, first)).status, 401);
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, firstToken)).body, { active: false });
    assert.equal((await clientCredentials(h.tessera.url, second)).status, 200);
  });

  it('rotates a leaked secret and revokes its tokens with "Also revoke its tokens"', async () => {
    const created = await createClientInConsole(h.page, 'Machine to machine', { Name: 'leaked' });
    const creds = { clientId: created.clientId, secret: created.secret! };
    const token = String((await clientCredentials(h.tessera.url, creds)).body.access_token);
    await h.page.goto(`/admin/clients/${created.clientId}`);
    await h.page
      .getByRole('form', { name: 'Replace every secret' })
      .getByLabel('Also revoke its tokens')
      .check();
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Rotate secret' }));
    assert.equal(await h.page.getByRole('heading', { level: 1 }).textContent(), 'Secret rotated');
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, token)).body, { active: false });
    assert.equal((await clientCredentials(h.tessera.url, creds)).status, 401);
  });

  it('lists the signing keys and rotates them ahead of their activation', async () => {
    await h.page.goto('/admin/clients');
    await clickAndLoad(h.page, h.page.getByRole('link', { name: 'Signing keys' }));
    const table = h.page.getByRole('table', { name: 'Signing keys' });
    assert.deepEqual(await table.locator('thead th').allTextContents(), [
      'Key ID',
      'Algorithm',
      'Status',
      'Activates',
      'Retires',
    ]);
    assert.deepEqual(await table.locator('tbody td:nth-child(3)').allTextContents(), ['current', 'current']);

    await h.page.getByLabel('Activate in (seconds)').fill('604801');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Rotate keys' }));
    assert.equal(
      await h.page.locator('#activate-error').textContent(),
      'activate_in: must be between 0 and 604800 seconds',
    );
    assert.equal(await h.page.getByLabel('Activate in (seconds)').inputValue(), '604801');
    assert.equal(await table.locator('tbody tr').count(), 2);

    await h.page.getByLabel('Activate in (seconds)').fill('86400');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Rotate keys' }));
    assert.deepEqual(await table.locator('tbody td:nth-child(3)').allTextContents(), [
      'next',
      'next',
      'current',
      'current',
    ]);
    const listed = (await api(h.tessera, h.root, 'GET', '/keys')).body.data as { kid: string }[];
    assert.deepEqual(
      await table.locator('tbody td:nth-child(1)').allTextContents(),
      listed.map((key) => key.kid),
    );
  });
});
