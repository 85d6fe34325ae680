import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { clickAndLoad, consoleHarness, newContext, signIn } from '../support/chromium.js';
import { clientCredentials } from '../support/oauth.js';

describe('console users, audit log and accounts', () => {
  const h = consoleHarness();

  const userByName = async (username: string) =>
    (
      (await api(h.tessera, h.root, 'GET', '/users?limit=100')).body.data as {
        id: string;
        username: string;
        role: string;
        disabled: boolean;
      }[]
    ).find((u) => u.username === username);

  /** Whether `username` can sign in with `password`, in a h.browser of its own. */
  async function canSignIn(username: string, password: string): Promise<boolean> {
    const other = await newContext(h.browser, h.tessera.url);
    const otherPage = await other.newPage();
    await signIn(otherPage, username, password);
    const ok = !(await otherPage.getByLabel('Password').count());
    await other.close();
    return ok;
  }

  it('creates a user, keeping the input (but never the password) when a field is refused', async () => {
    await h.page.goto('/admin/users');
    await clickAndLoad(h.page, h.page.getByRole('link', { name: 'New user' }));
    await h.page.getByLabel('Username').fill('bob smith');
    await h.page.getByLabel('Password').fill('long enough password');
    await h.page.getByLabel('Email').fill('bob@example.com');
    await h.page.getByLabel('Role').selectOption('admin');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Create user' }));
    assert.equal(
      await h.page.locator('#username-error').textContent(),
      'username: may contain letters, digits and . _ @ + - only',
    );
    assert.equal(await h.page.getByLabel('Username').inputValue(), 'bob smith');
    assert.equal(await h.page.getByLabel('Email').inputValue(), 'bob@example.com');
    assert.equal(await h.page.getByLabel('Role').inputValue(), 'admin');
    assert.equal(await h.page.getByLabel('Password').inputValue(), '');

    await h.page.getByLabel('Username').fill('bob');
    await h.page.getByLabel('Password').fill('long enough password');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Create user' }));
    assert.equal(await h.page.getByRole('heading', { level: 1 }).textContent(), 'bob Enabled');
    const bob = await userByName('bob');
    assert.deepEqual({ role: bob!.role, disabled: bob!.disabled }, { role: 'admin', disabled: false });
    await h.page.goto('/admin/users');
    assert.ok((await h.page.locator('tbody tr td:first-child').allTextContents()).includes('bob'));
  });

  it('changes the role, resets the password, disables and enables a user', async () => {
    const bob = (await userByName('bob'))!;
    await h.page.goto(`/admin/users/${bob.id}`);
    await h.page.getByLabel('Role').selectOption('member');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Save role' }));
    assert.equal((await userByName('bob'))!.role, 'member');

    await h.page.getByLabel('New password').fill('short');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Reset password' }));
    assert.equal(
      await h.page.locator('#password-error').textContent(),
      'password: must be at least 12 characters',
    );
    await h.page.getByLabel('New password').fill('a brand new password');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Reset password' }));
    assert.match((await h.page.getByRole('status').textContent())!, /Password reset/);
    assert.equal(await canSignIn('bob', 'long enough password'), false);
    assert.equal(await canSignIn('bob', 'a brand new password'), true);

    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Disable' }));
    assert.equal((await userByName('bob'))!.disabled, true);
    assert.equal(await canSignIn('bob', 'a brand new password'), false);
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Enable' }));
    assert.equal((await userByName('bob'))!.disabled, false);
  });

  it('deletes a user once the username is typed', async () => {
    const bob = (await userByName('bob'))!;
    await h.page.goto(`/admin/users/${bob.id}`);
    await h.page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = h.page.getByRole('dialog');
    await dialog.getByLabel('Type the username to confirm').fill('bob');
    await clickAndLoad(h.page, dialog.getByRole('button', { name: 'Delete user' }));
    assert.equal(new URL(h.page.url()).pathname, '/admin/users');
    assert.equal(await userByName('bob'), undefined);
  });

  it('shows the audit log with the signed-in user as the actor, by username, in pages', async () => {
    const admin = (await userByName('admin'))!;
    await h.page.goto('/admin/audit');
    const rows = h.page.locator('tbody tr');
    const first = await rows.first().locator('td').allTextContents();
    assert.equal(first[1], 'admin');
    assert.equal(first[2], 'user.delete');
    assert.match(first[3]!, /^user:/);
    for (const header of ['Time', 'Actor', 'Action', 'Target']) {
      assert.ok(await h.page.getByRole('columnheader', { name: header }).isVisible(), header);
    }
    for (let i = 0; i < 50; i += 1) {
      await api(h.tessera, h.root, 'PATCH', '/users/' + admin.id, { email: `admin${i}@example.com` });
    }
    await h.page.reload();
    assert.equal(await rows.count(), 50);
    await clickAndLoad(h.page, h.page.getByRole('link', { name: 'Next page' }));
    await h.page.waitForURL(/cursor=/);
    assert.ok((await rows.count()) >= 5);
    assert.ok(!(await h.page.content()).includes('password_hash'));
  });

  it('creates an account whose admin client secret is shown once and works', async () => {
    await h.page.goto('/admin/accounts');
    await clickAndLoad(h.page, h.page.getByRole('link', { name: 'New account' }));
    await h.page.getByLabel('Name').fill('Acme');
    await h.page.getByLabel('Max clients').fill('zero');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Create account' }));
    assert.match((await h.page.locator('#max_clients-error').textContent())!, /^max_clients: /);
    assert.equal(await h.page.getByLabel('Name').inputValue(), 'Acme');
    await h.page.getByLabel('Max clients').fill('5');
    await clickAndLoad(h.page, h.page.getByRole('button', { name: 'Create account' }));
    assert.equal(await h.page.getByRole('heading', { level: 1 }).textContent(), 'Account created');
    const clientId = await h.page.getByLabel('Client ID').inputValue();
    const secret = await h.page.getByLabel('Client secret').inputValue();
    const token = await clientCredentials(h.tessera.url, { clientId, secret });
    assert.equal(token.status, 200);
    await h.page.reload();
    assert.equal(await h.page.getByLabel('Client secret').count(), 0);
    await h.page.goto('/admin/accounts');
    assert.ok((await h.page.locator('tbody tr td:first-child').allTextContents()).includes('Acme'));
  });

  it("signs an account's administrator in to that account only, without the Accounts and Signing keys pages", async () => {
    const created = await api(h.tessera, h.root, 'POST', '/accounts', { name: 'Globex' });
    assert.equal(created.status, 201);
    const account = created.body.account as { id: string };
    const adminClient = created.body.admin_client as { client_id: string; client_secret: string };
    const tenantToken = await tokenFor(h.tessera.url, {
      clientId: adminClient.client_id,
      secret: adminClient.client_secret,
    });
    const user = await api(h.tessera, tenantToken, 'POST', '/users', {
      username: 'admin',
      password: 'globex-admin-password',
      role: 'admin',
    });
    assert.equal(user.status, 201);

    const other = await newContext(h.browser, h.tessera.url);
    const tenantPage = await other.newPage();
    await signIn(tenantPage, 'admin', 'globex-admin-password', `/admin?account=${account.id}`);
    assert.equal(await tenantPage.locator('.account-name').textContent(), 'Globex');
    assert.deepEqual(await tenantPage.locator('tbody tr td:first-child').allTextContents(), [
      'Tessera admin',
    ]);
    assert.equal(await tenantPage.getByRole('link', { name: 'Accounts' }).count(), 0);
    assert.equal(await tenantPage.getByRole('link', { name: 'Signing keys' }).count(), 0);
    assert.equal((await tenantPage.goto('/admin/accounts'))!.status(), 403);
    assert.equal((await tenantPage.goto('/admin/keys'))!.status(), 403);
    // The default account's clients do not exist for it.
    const defaults = (await api(h.tessera, h.root, 'GET', '/clients?q=Tessera%20console')).body.data as {
      client_id: string;
    }[];
    assert.equal((await tenantPage.goto(`/admin/clients/${defaults[0]!.client_id}`))!.status(), 404);
    await other.close();
  });
});
