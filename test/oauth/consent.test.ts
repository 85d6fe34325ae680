import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { adminHarness, api } from '../support/admin.js';
import { authorizePath, Browser } from '../support/browser.js';

const REDIRECT = 'https://app.example.com/callback';
const USER = { username: 'ceci', password: 'ceci password 1' };

describe('consent per client (require_consent)', () => {
  const h = adminHarness();
  before(async () => {
    await api(h.tessera, h.token, 'POST', '/users', { ...USER, role: 'member' });
  });

  const register = async (fields: Record<string, unknown>) => {
    const res = await api(h.tessera, h.token, 'POST', '/clients', {
      client_name: `app ${Math.random()}`,
      grant_types: ['authorization_code'],
      redirect_uris: [REDIRECT],
      scope: 'openid profile api:read',
      ...fields,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return String((res.body.client as { client_id: string }).client_id);
  };

  /** Signs in as a fresh browser; returns the page after the sign-in form. */
  const signIn = async (clientId: string) => {
    const browser = new Browser(h.tessera.url);
    const login = await browser.follow(
      authorizePath({ clientId, redirectUri: REDIRECT, scope: 'openid api:read' }),
    );
    return { browser, page: await browser.submit(login, '/login', USER) };
  };
  const askedConsent = (page: { status: number; html: string }) =>
    page.status === 200 && page.html.includes('/confirm"');
  const backWithCode = (page: { status: number; location: string | null }) =>
    page.status === 303 && !!new URL(page.location!).searchParams.get('code');

  it('shows no consent page to a client that does not require it, even a third-party one', async () => {
    const clientId = await register({ require_consent: false });
    const { page } = await signIn(clientId);
    assert.ok(backWithCode(page), page.html);
  });

  it('asks consent for a first-party client that requires it', async () => {
    const clientId = await register({ first_party: true, require_consent: true });
    const { browser, page } = await signIn(clientId);
    assert.ok(askedConsent(page), page.html);
    assert.ok(backWithCode(await browser.submit(page, '/confirm')));
  });

  it('follows a change of require_consent from the next authorization', async () => {
    const clientId = await register({});
    assert.ok(askedConsent((await signIn(clientId)).page), 'a third-party client asks by default');
    await api(h.tessera, h.token, 'PATCH', `/clients/${clientId}`, { require_consent: false });
    assert.ok(backWithCode((await signIn(clientId)).page), 'no longer asks');
    await api(h.tessera, h.token, 'PATCH', `/clients/${clientId}`, { require_consent: true });
    assert.ok(askedConsent((await signIn(clientId)).page), 'asks again: nothing was granted by consent');
  });

  it('does not ask again after a denial is followed by consent, and forgets consents of a deleted client', async () => {
    const clientId = await register({});
    const denied = await signIn(clientId);
    const back = await denied.browser.submit(denied.page, '/abort');
    assert.equal(new URL(back.location!).searchParams.get('error'), 'access_denied');
    const asked = await signIn(clientId);
    assert.ok(askedConsent(asked.page), 'a denial grants nothing');
    await asked.browser.submit(asked.page, '/confirm');
    assert.ok(backWithCode((await signIn(clientId)).page), 'remembered across sign-ins');
    assert.equal((await api(h.tessera, h.token, 'DELETE', `/clients/${clientId}`)).status, 204);
    const consents = h.tessera.container.tokenStore.adapter('Consent');
    const users = (await api(h.tessera, h.token, 'GET', '/users')).body.data as {
      id: string;
      username: string;
    }[];
    const userId = users.find((user) => user.username === USER.username)!.id;
    assert.equal(await consents.find(`${userId} ${clientId}`), undefined, 'deleted with the client');
  });
});
