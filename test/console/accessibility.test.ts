import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { api, tokenFor } from '../support/admin.js';
import {
  createClientInConsole,
  launchChromium,
  newContext,
  screenshotDir,
  seriousViolations,
  signIn,
} from '../support/chromium.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

describe('console accessibility', () => {
  let tessera: RunningTessera;
  let browser: Browser & { dispose(): Promise<void> };
  let page: Page;
  // CONSOLE_SCREENSHOTS keeps them (the README's come from there); by default a temporary folder.
  const kept = process.env.CONSOLE_SCREENSHOTS;
  const shots = kept ? { dir: kept, remove() {} } : screenshotDir();

  before(async () => {
    tessera = await startTessera({ mtls: true });
    browser = await launchChromium();
    const root = await tokenFor(tessera.url);
    for (const name of ['orders-api', 'inventory-sync', 'partner-portal']) {
      await api(tessera, root, 'POST', '/clients', {
        client_name: name,
        grant_types: ['client_credentials'],
        scope: 'api:read',
      });
    }
    await api(tessera, root, 'POST', '/users', {
      username: 'mia',
      password: 'member-password-123',
      role: 'member',
    });
    const context = await newContext(browser, tessera.url);
    page = await context.newPage();
    await signIn(page, 'admin', 'test-admin-password');
  });

  after(async () => {
    await browser?.dispose();
    await tessera?.close();
    shots.remove();
  });

  /** Checks the page that is open, and saves its screenshot as `name`. */
  async function check(name: string) {
    const violations = await seriousViolations(page);
    assert.deepEqual(
      violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
      [],
      name,
    );
    const file = path.join(shots.dir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(existsSync(file) && statSync(file).size > 1000, file);
  }

  it('has no serious or critical axe-core violation on any console page', async () => {
    await page.goto('/admin/clients');
    await check('clients');
    await page.goto('/admin/clients/new?preset=web');
    await check('client-new');

    const mtls = await createClientInConsole(page, 'Mutual TLS machine', {
      Name: 'payments-gateway',
      Description: 'Settles card payments',
    });
    await check('client-created');
    await page.goto(`/admin/clients/${mtls.clientId}`);
    await check('client');
    await page.goto(`/admin/clients/${mtls.clientId}/edit`);
    await check('client-edit');
    await page.goto(`/admin/clients/${mtls.clientId}/delete`);
    await check('client-delete');

    await page.goto('/admin/clients/new?preset=web');
    await page.getByLabel('Name', { exact: true }).fill('refused');
    await page.getByLabel('Redirect URIs').fill('http://example.com/cb');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.locator('#redirect_uris-error').waitFor();
    await check('client-refused');

    await page.goto('/admin/users');
    await check('users');
    await page.goto('/admin/users/new');
    await check('user-new');
    await page.getByRole('link', { name: 'Users' }).click();
    await page.goto('/admin/users');
    await page.getByRole('link', { name: 'mia' }).click();
    await page.waitForURL(/\/admin\/users\/[^/]+$/);
    await check('user');
    await page.goto('/admin/audit');
    await check('audit');
    await page.goto('/admin/accounts');
    await check('accounts');
    await page.goto('/admin/accounts/new');
    await check('account-new');
    await page.goto('/admin/no-such-page');
    await check('not-found');
  });

  it('has none on the sign-in, no-access and signed-out pages either', async () => {
    const context = await newContext(browser, tessera.url);
    const other = await context.newPage();
    await other.goto('/admin');
    page = other;
    await check('sign-in');
    await signIn(other, 'mia', 'member-password-123');
    await check('no-access');
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.getByRole('heading', { name: 'Signed out' }).waitFor();
    await check('signed-out');
    await context.close();
  });
});
