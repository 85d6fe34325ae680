import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { api } from '../support/admin.js';
import { clickAndLoad, consoleHarness, createClientInConsole } from '../support/chromium.js';
import { mtlsToken } from '../support/tls.js';

describe('console certificates', () => {
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
});
