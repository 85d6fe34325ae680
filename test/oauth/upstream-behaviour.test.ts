import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { UPSTREAM } from '../../src/provider/protocol-errors.js';
import { basic, postForm } from '../support/oauth.js';

/**
 * The oidc-provider behaviour each of Tessera's deviations exists for, asserted against a plain
 * oidc-provider. When an upgrade changes one of these, the test names the deviation to revisit:
 * - src/provider/protocol-errors.ts (two error texts, the certificate-bound answer);
 * - src/provider/hashed-secrets.ts (secrets in either place for both secret methods);
 * - src/provider/client-credentials.ts (the scope rules of the built-in grant);
 * - src/provider/jwt-access-tokens.ts (JWT access tokens refused at introspection and revocation);
 * - src/provider/requested-scope.ts (the hooks that see a request's parsed scope).
 */
describe('oidc-provider behaviour that Tessera works around', () => {
  let server: Server;
  let base: string;
  const scopeSeen: unknown[] = [];

  before(async () => {
    const provider = new Provider('http://127.0.0.1', {
      clients: [
        {
          client_id: 'basic',
          client_secret: 'basic-secret',
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          scope: 'a b',
        },
        {
          client_id: 'bound',
          client_secret: 'bound-secret',
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          tls_client_certificate_bound_access_tokens: true,
        },
        {
          client_id: 'web',
          token_endpoint_auth_method: 'none',
          redirect_uris: ['https://rp.example.com/cb'],
          scope: 'a b',
        },
      ],
      scopes: ['a', 'b'],
      extraParams: {
        scope(ctx: KoaContextWithOIDC) {
          scopeSeen.push(ctx.oidc.params?.scope);
        },
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
        mTLS: { enabled: true, certificateBoundAccessTokens: true, getCertificate: () => undefined },
      },
    });
    server = provider.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const token = (form: Record<string, string>, headers?: Record<string, string>) =>
    postForm(`${base}/token`, form, headers);

  it('lib/shared/client_auth.js: no client authentication at all is 400 invalid_request', async () => {
    const res = await token({ grant_type: 'client_credentials' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { error: 'invalid_request', error_description: UPSTREAM.noClientAuth });
  });

  it('lib/actions/token.js: a grant the client lacks is 400 invalid_request', async () => {
    const res = await token(
      {
        grant_type: 'authorization_code',
        code: 'x',
        redirect_uri: 'https://rp.example.com/cb',
        code_verifier: 'v'.repeat(43),
      },
      basic('basic', 'basic-secret'),
    );
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { error: 'invalid_request', error_description: UPSTREAM.grantNotAllowed });
  });

  it('lib/shared/client_auth.js: a client_secret_basic client may send its secret in the body', async () => {
    const res = await token({
      grant_type: 'client_credentials',
      client_id: 'basic',
      client_secret: 'basic-secret',
    });
    assert.equal(res.status, 200);
  });

  it('lib/actions/grants/client_credentials.js: no scope means none, and unknown scopes are dropped', async () => {
    const none = await token({ grant_type: 'client_credentials' }, basic('basic', 'basic-secret'));
    assert.equal(none.status, 200);
    assert.equal(none.body.scope, undefined);
    const unknown = await token(
      { grant_type: 'client_credentials', scope: 'a nope' },
      basic('basic', 'basic-secret'),
    );
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.scope, 'a');
  });

  it('lib/helpers/sender_constraints.js: a certificate-bound client without one is 400 invalid_grant', async () => {
    const res = await token({ grant_type: 'client_credentials' }, basic('bound', 'bound-secret'));
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'invalid_grant',
      error_description: 'grant request is invalid',
    });
  });

  it('lib/shared/reject_structured_tokens.js: a JWT is refused at introspection and revocation', async () => {
    const jwt = `${Buffer.from('{"alg":"ES256","typ":"at+jwt"}').toString('base64url')}.e30.c2ln`;
    for (const path of ['/token/introspection', '/token/revocation']) {
      const res = await postForm(`${base}${path}`, { token: jwt }, basic('basic', 'basic-secret'));
      assert.equal(res.status, 400, path);
      assert.equal(res.body.error, 'unsupported_token_type', path);
    }
  });

  it('lib/actions/authorization/request_parameters.js: the scope validator sees the parsed scope', async () => {
    const query = new URLSearchParams({
      client_id: 'web',
      response_type: 'code',
      redirect_uri: 'https://rp.example.com/cb',
      scope: 'a',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const res = await fetch(`${base}/auth?${query}`, { redirect: 'manual' });
    assert.equal(res.status, 303);
    assert.deepEqual(scopeSeen, ['a']);
  });
});
