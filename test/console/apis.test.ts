import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { api } from '../support/admin.js';
import { clickAndLoad, consoleHarness } from '../support/chromium.js';

describe('console APIs (resource servers)', () => {
  const h = consoleHarness();

  const stored = async () =>
    (await api(h.tessera, h.root, 'GET', '/resources?limit=100')).body.data as Record<string, unknown>[];

  it('lists, creates, edits and deletes an API through the same rules as the admin API', async () => {
    await h.page.goto('/admin/clients');
    await clickAndLoad(h.page, h.page.getByRole('link', { name: 'APIs' }));
    await clickAndLoad(h.page, h.page.getByRole('link', { name: 'New API' }));
    await h.page.getByLabel('Name', { exact: true }).fill('Orders');
    await h.page.getByLabel('Identifier', { exact: true }).fill('https://orders.example.com/#x');
    await h.page.getByRole('group', { name: 'Scopes' }).locator('input[value="api:read"]').check();
    await h.page.getByLabel('Token format').selectOption('jwt');
    await h.page.getByLabel('Access token lifetime (seconds)').fill('900');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Create API' }));
    assert.equal(
      await h.page.locator('#identifier-error').textContent(),
      'identifier must be an absolute URI without a fragment',
    );
    assert.equal(
      await h.page.getByLabel('Name', { exact: true }).inputValue(),
      'Orders',
      'the form keeps what was typed',
    );
    assert.equal(
      await h.page.getByRole('group', { name: 'Scopes' }).locator('input[value="admin"]').count(),
      0,
    );
    assert.deepEqual(await stored(), [], 'nothing was created');

    await h.page.getByLabel('Identifier', { exact: true }).fill('https://orders.example.com');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Create API' }));
    assert.equal(await h.page.getByRole('status').textContent(), 'The API is registered.');
    const [created] = await stored();
    assert.deepEqual(
      [
        created?.name,
        created?.identifier,
        created?.scope,
        created?.access_token_format,
        created?.access_token_ttl,
      ],
      ['Orders', 'https://orders.example.com', 'api:read', 'jwt', 900],
    );

    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Edit' }));
    await h.page.getByLabel('Name', { exact: true }).fill('Orders API');
    await h.page.getByLabel('Access token lifetime (seconds)').fill('');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Save changes' }));
    assert.equal(await h.page.getByRole('status').textContent(), 'Changes saved.');
    const [edited] = await stored();
    assert.deepEqual([edited?.name, edited?.access_token_ttl], ['Orders API', null]);
    assert.match(await h.page.locator('main').innerText(), /resource\.update/);

    await h.page.goto('/admin/apis');
    assert.deepEqual(await h.page.locator('tbody tr td:first-child').allTextContents(), ['Orders API']);
    await clickAndLoad(h.page, h.page.getByRole('link', { name: 'Orders API' }));
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Delete' }));
    await h.page.getByLabel('Type the API name to confirm').fill('Orders API');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Delete API' }));
    assert.equal(new URL(h.page.url()).pathname, '/admin/apis');
    assert.deepEqual(await stored(), []);
  });
});
