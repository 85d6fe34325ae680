import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import type { Credentials } from '../support/oauth.js';
import { Browser } from '../support/browser.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const REDIRECT = 'https://rp.example.com/callback';

describe('openid-client v6 as the relying party', () => {
  let tessera: RunningTessera;
  let client: Credentials;

  before(async () => {
    tessera = await startTessera();
    const root = await tokenFor(tessera.url);
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'relying party',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT],
      scope: 'openid profile email',
    });
    client = credentialsOf(created);
    await api(tessera, root, 'POST', '/users', {
      username: 'dana',
      password: 'dana password 12',
      email: 'dana@example.com',
      role: 'member',
    });
  });
  after(async () => tessera.close());

  it('discovers, signs in with PKCE, validates the ID token, reads userinfo and refreshes', async () => {
    // Loopback http in tests only; the library insists on https otherwise.
    const config = await oidc.discovery(
      new URL(tessera.url),
      client.clientId,
      undefined,
      oidc.ClientSecretBasic(client.secret),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });

    const browser = new Browser(tessera.url);
    const login = await browser.follow(url.toString());
    const consent = await browser.submit(login, '/login', { username: 'dana', password: 'dana password 12' });
    const back = await browser.submit(consent, '/confirm');
    assert.ok(back.location?.startsWith(REDIRECT));

    const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    assert.equal(claims.iss, tessera.url);
    assert.equal(claims.aud, client.clientId);
    const user = await tessera.container.clientStore.findUserByUsername('default', 'dana');
    assert.equal(claims.sub, user!.id);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.preferred_username, 'dana');
    assert.equal(info.email, 'dana@example.com');

    assert.ok(tokens.refresh_token);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.access_token, tokens.access_token);
  });
});
