import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { codeThroughForms } from '../support/browser.js';
import { basic } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';
import { identityOf, mtlsToken, send, serverCa, type Identity } from '../support/tls.js';

const REDIRECT = 'https://app.example.com/callback';
const BOUND_ELSEWHERE = {
  error: 'invalid_token',
  error_description: 'the access token is bound to a client certificate that was not presented',
};

describe('certificate-bound access tokens', () => {
  let tessera: RunningTessera;
  let root: string;
  let other: Identity;

  before(async () => {
    tessera = await startTessera({ mtls: true });
    root = await tokenFor(tessera.url);
    const stranger = await api(tessera, root, 'POST', '/clients', {
      client_name: 'someone else',
      token_endpoint_auth_method: 'tls_client_auth',
      issue_certificate: true,
    });
    other = identityOf(stranger.body.certificate as Record<string, unknown>);
  });
  after(async () => tessera.close());

  describe('at userinfo, for a web app that redeems its code over mTLS', () => {
    let clientId: string;
    let secret: string;
    let identity: Identity;
    let accessToken: string;

    before(async () => {
      const created = await api(tessera, root, 'POST', '/clients', {
        client_name: 'bound web app',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [REDIRECT],
        scope: 'openid profile',
        tls_client_certificate_bound_access_tokens: true,
        issue_certificate: true,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      clientId = String((created.body.client as { client_id: string }).client_id);
      secret = String(created.body.client_secret);
      identity = identityOf(created.body.certificate as Record<string, unknown>);
      await api(tessera, root, 'POST', '/users', {
        username: 'bob',
        password: 'bob password 12',
        role: 'member',
      });
    });

    /** Signs bob in and returns a fresh code and its verifier. */
    const code = () =>
      codeThroughForms(tessera.url, {
        clientId,
        redirectUri: REDIRECT,
        scope: 'openid profile',
        username: 'bob',
        password: 'bob password 12',
      });

    const redeem = (
      grant: { code: string; verifier: string },
      presented: Identity | undefined,
      base: string,
    ) =>
      send(`${base}/oauth/token`, {
        form: {
          grant_type: 'authorization_code',
          code: grant.code,
          redirect_uri: REDIRECT,
          code_verifier: grant.verifier,
        },
        headers: basic(clientId, secret),
        ca: serverCa(tessera),
        ...(presented ? { identity: presented } : {}),
      });

    it('refuses to redeem the code without a certificate (401 invalid_client)', async () => {
      const grant = await code();
      const res = await redeem(grant, undefined, tessera.mtlsUrl!);
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, {
        error: 'invalid_client',
        error_description: 'client authentication failed',
      });
      const plain = await redeem(grant, undefined, tessera.url);
      assert.equal(plain.status, 401);
    });

    it('binds the tokens to the certificate the code was redeemed with', async () => {
      const res = await redeem(await code(), identity, tessera.mtlsUrl!);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      accessToken = String(res.body.access_token);
      const seen = await send(`${tessera.mtlsUrl}/oauth/introspect`, {
        form: { token: accessToken },
        headers: basic(clientId, secret),
        ca: serverCa(tessera),
      });
      assert.equal(seen.status, 200);
      const thumbprint = (
        (await api(tessera, root, 'GET', `/clients/${clientId}`)).body.certificates as {
          sha256_thumbprint: string;
        }[]
      )[0]!.sha256_thumbprint;
      assert.deepEqual(seen.body.cnf, { 'x5t#S256': thumbprint });
    });

    it('answers userinfo only with the same certificate', async () => {
      const ask = (base: string, presented?: Identity) =>
        send(`${base}/oauth/userinfo`, {
          headers: { authorization: `Bearer ${accessToken}` },
          ca: serverCa(tessera),
          ...(presented ? { identity: presented } : {}),
        });
      const withIt = await ask(tessera.mtlsUrl!, identity);
      assert.equal(withIt.status, 200, JSON.stringify(withIt.body));
      assert.equal(withIt.body.preferred_username, 'bob');

      for (const [base, presented] of [
        [tessera.url, undefined],
        [tessera.mtlsUrl!, undefined],
        [tessera.mtlsUrl!, other],
      ] as const) {
        const refused = await ask(base, presented);
        assert.equal(refused.status, 401, `${base} ${presented ? 'other cert' : 'no cert'}`);
        assert.equal(refused.body.error, 'invalid_token');
        assert.match(String(refused.headers['www-authenticate']), /error="invalid_token"/);
      }
    });
  });

  describe('at the admin API, for a machine administrator', () => {
    let clientId: string;
    let identity: Identity;
    let token: string;

    before(async () => {
      const created = await api(tessera, root, 'POST', '/clients', {
        client_name: 'bound admin robot',
        token_endpoint_auth_method: 'tls_client_auth',
        scope: 'clients:read',
        tls_client_certificate_bound_access_tokens: true,
        issue_certificate: true,
      });
      clientId = String((created.body.client as { client_id: string }).client_id);
      identity = identityOf(created.body.certificate as Record<string, unknown>);
      const res = await mtlsToken(tessera, clientId, identity);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      token = String(res.body.access_token);
    });

    const list = (base: string, presented?: Identity) =>
      send(`${base}/admin/api/clients?limit=1`, {
        headers: { authorization: `Bearer ${token}` },
        ca: serverCa(tessera),
        ...(presented ? { identity: presented } : {}),
      });

    it('accepts the token with its certificate', async () => {
      const res = await list(tessera.mtlsUrl!, identity);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((res.body.data as unknown[]).length, 1);
    });

    it('refuses it without a certificate, or with another one', async () => {
      for (const [base, presented] of [
        [tessera.url, undefined],
        [tessera.mtlsUrl!, undefined],
        [tessera.mtlsUrl!, other],
      ] as const) {
        const res = await list(base, presented);
        assert.equal(res.status, 401);
        assert.deepEqual(res.body, BOUND_ELSEWHERE);
        assert.equal(
          res.headers['www-authenticate'],
          `Bearer error="invalid_token", error_description="${BOUND_ELSEWHERE.error_description}"`,
        );
      }
    });

    it('refuses a client_credentials request of the bound client that comes without a certificate', async () => {
      const res = await mtlsToken(tessera, clientId, undefined);
      assert.equal(res.status, 401);
      assert.equal(res.body.error, 'invalid_client');
    });
  });
});
