import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { api } from '../support/admin.js';
import { ADMIN, clientCredentials, introspect } from '../support/oauth.js';
import { clickAndLoad, clipboardText, consoleHarness, createClientInConsole } from '../support/chromium.js';
import { mtlsToken } from '../support/tls.js';

describe('console credentials: certificates, secrets and signing keys', () => {
  const h = consoleHarness({ mtls: true });

  const download = async (name: string) => {
    const [file] = await Promise.all([
      h.page.waitForEvent('download'),
      h.page.getByRole('link', { name }).click(),
    ]);
    return readFile((await file.path())!, 'utf8');
  };

  it('issues a second certificate, revokes the first, and warns of one that expires soon', async () => {
    const created = await createClientInConsole(h.page, 'Mutual TLS machine', { Name: 'renewing' });
    // Until downloaded, the private key waits in the token store (here the embedded file): sealed.
    const dataDir = h.tessera.container.config.dataDir;
    const stored = readdirSync(dataDir)
      .filter((name) => name.startsWith('tessera.db'))
      .map((name) => readFileSync(path.join(dataDir, name), 'latin1'))
      .join('');
    assert.ok(stored.includes('"sealed":{"sealed":"A256GCM"'), 'the sealed one-time entry is in the file');
    assert.ok(!stored.includes('PRIVATE KEY'), 'no private key in the clear');
    const first = {
      cert: await download('Download certificate'),
      key: await download('Download private key'),
    };
    assert.equal((await mtlsToken(h.tessera, created.clientId, first)).status, 200);

    await h.page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Issue certificate' }));
    assert.equal(await h.page.getByRole('heading', { level: 1 }).textContent(), 'Certificate issued');
    const second = {
      cert: await download('Download certificate'),
      key: await download('Download private key'),
    };
    assert.equal((await mtlsToken(h.tessera, created.clientId, second)).status, 200);

    await h.page.goto(`/admin/clients/${created.clientId}`);
    const table = h.page.getByRole('table', { name: 'Certificates' });
    assert.equal(await table.locator('tbody tr').count(), 2);
    const view = await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`);
    const [firstSerial] = (view.body.certificates as { serial: string }[]).map((c) => c.serial);
    await clickAndLoad(h.page, table.getByRole('button', { name: `Revoke certificate ${firstSerial}` }));
    assert.match((await h.page.getByRole('status').textContent())!, /revoked/);
    assert.equal((await mtlsToken(h.tessera, created.clientId, first)).status, 401);
    assert.equal((await mtlsToken(h.tessera, created.clientId, second)).status, 200);
    assert.equal(
      await table.locator('tbody tr').filter({ hasText: firstSerial! }).locator('.badge').textContent(),
      'Revoked',
    );

    // A certificate close to its expiry is flagged.
    const soon = new Date(Date.now() + 10 * 86_400_000 + 3_600_000).toISOString();
    await h.tessera.container.clientStore.addCertificate(
      created.clientId,
      { serial: 'abcdef0123', sha256_thumbprint: 'x'.repeat(43), not_after: soon, revoked: false },
      new Date().toISOString(),
    );
    await h.page.reload();
    assert.equal(
      await table.locator('tbody tr').filter({ hasText: 'abcdef0123' }).locator('.badge.warn').textContent(),
      'Expires in 10 days',
    );
  });

  it('shows the secret once: a reload shows it no more; "Copy" puts it on the clipboard', async () => {
    const created = await createClientInConsole(h.page, 'Machine to machine', { Name: 'copy-me' });
    const response = await h.page.reload();
    assert.equal(response!.status(), 410);
    assert.equal(await h.page.getByLabel('Client secret').count(), 0);
    assert.ok(!(await h.page.content()).includes(created.secret!));
    await h.page.goBack();
    assert.ok(!(await h.page.content()).includes(created.secret!));

    // A new h.page with a secret, then Copy.
    await h.page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Rotate secret' }));
    assert.equal(await h.page.getByRole('heading', { level: 1 }).textContent(), 'Secret rotated');
    assert.equal(
      (await h.page.request.get(h.page.url(), { maxRedirects: 0 })).headers()['cache-control'],
      'no-store',
    );
    const secret = await h.page.getByLabel('Client secret').inputValue();
    await h.page
      .locator('.copyable')
      .filter({ has: h.page.getByLabel('Client secret') })
      .getByRole('button', { name: 'Copy' })
      .click();
    assert.equal(await clipboardText(h.page), secret);
  });

  it('rotation makes the old secret fail at the token endpoint', async () => {
    const created = await createClientInConsole(h.page, 'Machine to machine', { Name: 'rotate-me' });
    assert.equal(
      (await clientCredentials(h.tessera.url, { clientId: created.clientId, secret: created.secret! }))
        .status,
      200,
    );
    await h.page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Rotate secret' }));
    const fresh = await h.page.getByLabel('Client secret').inputValue();
    assert.notEqual(fresh, created.secret);
    assert.equal(
      (await clientCredentials(h.tessera.url, { clientId: created.clientId, secret: created.secret! }))
        .status,
      401,
    );
    assert.equal(
      (await clientCredentials(h.tessera.url, { clientId: created.clientId, secret: fresh })).status,
      200,
    );
  });

  it('rotation can keep the old secret working for a while, shown on the page, and "End overlap now" stops it', async () => {
    const created = await createClientInConsole(h.page, 'Machine to machine', { Name: 'overlap-me' });
    const old = { clientId: created.clientId, secret: created.secret! };
    await h.page.goto(`/admin/clients/${created.clientId}`);
    const overlap = h.page.getByLabel('Keep the old secret working for (seconds)');

    // A refused value is shown at the field, and nothing rotates.
    await overlap.fill('90000');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Rotate secret' }));
    assert.equal(
      await h.page.locator('#overlap-error').textContent(),
      'previous_secret_expires_in: must be between 1 and 86400 seconds',
    );
    assert.equal(await overlap.inputValue(), '90000');
    assert.equal(await overlap.getAttribute('aria-invalid'), 'true');
    assert.equal((await clientCredentials(h.tessera.url, old)).status, 200);

    await overlap.fill('3600');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Rotate secret' }));
    assert.equal(await h.page.getByRole('heading', { level: 1 }).textContent(), 'Secret rotated');
    const fresh = { ...old, secret: await h.page.getByLabel('Client secret').inputValue() };
    assert.equal((await clientCredentials(h.tessera.url, old)).status, 200, 'the old secret still works');
    assert.equal((await clientCredentials(h.tessera.url, fresh)).status, 200);

    await h.page.goto(`/admin/clients/${created.clientId}`);
    const until = String(
      (await api(h.tessera, h.root, 'GET', `/clients/${created.clientId}`)).body.previous_secret_expires_at,
    );
    assert.equal(await h.page.locator(`time[datetime="${until}"]`).count(), 1, 'the overlap is shown');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'End overlap now' }));
    assert.equal(await h.page.getByRole('status').textContent(), 'The previous secret no longer works.');
    assert.equal((await clientCredentials(h.tessera.url, old)).status, 401);
    assert.equal((await clientCredentials(h.tessera.url, fresh)).status, 200);
    assert.equal(await h.page.getByRole('button', { name: 'End overlap now' }).count(), 0);
  });

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
