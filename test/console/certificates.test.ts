import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { api, tokenFor } from '../support/admin.js';
import {
  clickAndLoad,
  createClientInConsole,
  launchChromium,
  newContext,
  signIn,
} from '../support/chromium.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';
import { mtlsToken } from '../support/tls.js';

describe('console certificates', () => {
  let tessera: RunningTessera;
  let browser: Browser & { dispose(): Promise<void> };
  let context: BrowserContext;
  let page: Page;
  let root: string;

  before(async () => {
    tessera = await startTessera({ mtls: true });
    browser = await launchChromium();
    root = await tokenFor(tessera.url);
    context = await newContext(browser, tessera.url);
    page = await context.newPage();
    await signIn(page, 'admin', 'test-admin-password');
  });

  after(async () => {
    await browser?.dispose();
    await tessera?.close();
  });

  const download = async (name: string) => {
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name }).click(),
    ]);
    return readFile((await file.path())!, 'utf8');
  };

  it('issues a second certificate, revokes the first, and warns of one that expires soon', async () => {
    const created = await createClientInConsole(page, 'Mutual TLS machine', { Name: 'renewing' });
    const first = {
      cert: await download('Download certificate'),
      key: await download('Download private key'),
    };
    assert.equal((await mtlsToken(tessera, created.clientId, first)).status, 200);

    await page.goto(`/admin/clients/${created.clientId}`);
    await clickAndLoad(page, page.getByRole('button', { name: 'Issue certificate' }));
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Certificate issued');
    const second = {
      cert: await download('Download certificate'),
      key: await download('Download private key'),
    };
    assert.equal((await mtlsToken(tessera, created.clientId, second)).status, 200);

    await page.goto(`/admin/clients/${created.clientId}`);
    const table = page.getByRole('table', { name: 'Certificates' });
    assert.equal(await table.locator('tbody tr').count(), 2);
    const view = await api(tessera, root, 'GET', `/clients/${created.clientId}`);
    const [firstSerial] = (view.body.certificates as { serial: string }[]).map((c) => c.serial);
    await clickAndLoad(page, table.getByRole('button', { name: `Revoke certificate ${firstSerial}` }));
    assert.match((await page.getByRole('status').textContent())!, /revoked/);
    assert.equal((await mtlsToken(tessera, created.clientId, first)).status, 401);
    assert.equal((await mtlsToken(tessera, created.clientId, second)).status, 200);
    assert.equal(
      await table.locator('tbody tr').filter({ hasText: firstSerial! }).locator('.badge').textContent(),
      'Revoked',
    );

    // A certificate close to its expiry is flagged.
    const soon = new Date(Date.now() + 10 * 86_400_000 + 3_600_000).toISOString();
    await tessera.container.clientStore.addCertificate(
      created.clientId,
      { serial: 'abcdef0123', sha256_thumbprint: 'x'.repeat(43), not_after: soon, revoked: false },
      new Date().toISOString(),
    );
    await page.reload();
    assert.equal(
      await table.locator('tbody tr').filter({ hasText: 'abcdef0123' }).locator('.badge.warn').textContent(),
      'Expires in 10 days',
    );
  });
});
