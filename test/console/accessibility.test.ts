import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { api } from '../support/admin.js';
import {
  consoleHarness,
  createClientInConsole,
  newContext,
  screenshotDir,
  seriousViolations,
  signIn,
} from '../support/chromium.js';

describe('console accessibility', () => {
  // CONSOLE_SCREENSHOTS keeps them (the README's come from there); by default a temporary folder.
  const kept = process.env.CONSOLE_SCREENSHOTS;
  const shots = kept ? { dir: kept, remove() {} } : screenshotDir();

  const h = consoleHarness({ mtls: true });

  before(async () => {
    for (const name of ['orders-api', 'inventory-sync', 'partner-portal']) {
      await api(h.tessera, h.root, 'POST', '/clients', {
        client_name: name,
        grant_types: ['client_credentials'],
        scope: 'api:read',
      });
    }
    await api(h.tessera, h.root, 'POST', '/users', {
      username: 'mia',
      password: 'member-password-123',
      role: 'member',
    });
  });

  after(() => {
    shots.remove();
  });

  /** Checks the h.page that is open, and saves its screenshot as `name`. */
  async function check(name: string, page: Page = h.page) {
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
    await h.page.goto('/admin/clients');
    await check('clients');
    await h.page.goto('/admin/clients/new?preset=web');
    await check('client-new');

    const mtls = await createClientInConsole(h.page, 'Mutual TLS machine', {
      Name: 'payments-gateway',
      Description: 'Settles card payments',
    });
    await check('client-created');
    await h.page.goto(`/admin/clients/${mtls.clientId}`);
    await check('client');
    // A secret-based client: its Secrets table, "Add secret" and "Rotate secret", refused too.
    const machine = await createClientInConsole(h.page, 'Machine to machine', { Name: 'billing-export' });
    await h.page.goto(`/admin/clients/${machine.clientId}`);
    await h.page.getByLabel('Label').fill('ci runner');
    await h.page.getByRole('button', { name: 'Add secret' }).click();
    await h.page.getByRole('heading', { name: 'Secret added' }).waitFor();
    await check('secret-added');
    await h.page.goto(`/admin/clients/${machine.clientId}`);
    await check('client-secrets');
    await h.page.getByLabel('Expires in (seconds)').fill('5');
    await h.page.getByRole('button', { name: 'Add secret' }).click();
    await h.page.locator('#add-secret-error').waitFor();
    await check('client-secret-refused');
    await h.page.goto(`/admin/clients/${mtls.clientId}/edit`);
    await check('client-edit');
    await h.page.goto(`/admin/clients/${mtls.clientId}/delete`);
    await check('client-delete');

    await h.page.goto('/admin/clients/new?preset=web');
    await h.page.getByLabel('Name', { exact: true }).fill('refused');
    await h.page.getByLabel('Redirect URIs', { exact: true }).fill('http://example.com/cb');
    await h.page.getByRole('button', { name: 'Create client' }).click();
    await h.page.locator('#redirect_uris-error').waitFor();
    await check('client-refused');

    const orders = await api(h.tessera, h.root, 'POST', '/resources', {
      identifier: 'https://orders.example.com',
      name: 'Orders',
      scope: 'api:read',
      access_token_format: 'jwt',
    });
    await h.page.goto('/admin/apis');
    await check('apis');
    await h.page.goto('/admin/apis/new');
    await check('api-new');
    await h.page.goto(`/admin/apis/${String(orders.body.id)}`);
    await check('api');

    await h.page.goto('/admin/users');
    await check('users');
    await h.page.goto('/admin/users/new');
    await check('user-new');
    await h.page.getByRole('link', { name: 'Users' }).click();
    await h.page.goto('/admin/users');
    await h.page.getByRole('link', { name: 'mia' }).click();
    await h.page.waitForURL(/\/admin\/users\/[^/]+$/);
    await check('user');
    await h.page.goto('/admin/audit');
    await check('audit');
    await h.page.goto('/admin/keys');
    await check('keys');
    await h.page.getByLabel('Activate in (seconds)').fill('86400');
    await h.page.getByRole('button', { name: 'Rotate keys' }).click();
    await h.page.getByRole('status').waitFor();
    await check('keys-rotated');
    await h.page.goto('/admin/accounts');
    await check('accounts');
    await h.page.goto('/admin/accounts/new');
    await check('account-new');
    await h.page.goto('/admin/no-such-page');
    await check('not-found');
  });

  it('has none on the sign-in, no-access, logout and signed-out pages either', async () => {
    const context = await newContext(h.browser, h.tessera.url);
    const other = await context.newPage();
    await other.goto('/admin');
    await check('sign-in', other);
    await signIn(other, 'mia', 'member-password-123');
    await check('no-access', other);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.getByRole('heading', { name: 'Signed out' }).waitFor();
    await check('signed-out', other);
    // OpenID Connect RP-initiated logout: Tessera's confirmation and signed-out pages.
    await signIn(other, 'mia', 'member-password-123');
    await other.goto('/oauth/logout');
    await check('logout', other);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await check('logged-out', other);
    await context.close();
  });
});
