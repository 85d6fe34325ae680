import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { api, tokenFor } from '../support/admin.js';
import { ADMIN, basic, postForm } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const run = promisify(execFile);

/** What `HttpURLConnection` sends when the application sets no `Accept`. */
const JAVA_ACCEPT = 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2';

describe('protocol conformance for clients of other ecosystems', () => {
  let tessera: RunningTessera;

  before(async () => {
    tessera = await startTessera({ mtls: true });
  });
  after(async () => tessera.close());

  const url = (path: string) => `${tessera.url}${path}`;

  it('answers errors as JSON whatever Accept prefers, on every endpoint but the authorization pages', async () => {
    const wrong = basic(ADMIN.clientId, 'wrong-secret');
    for (const [path, form] of [
      ['/oauth/token', { grant_type: 'client_credentials' }],
      ['/oauth/introspect', { token: 'x' }],
      ['/oauth/revoke', { token: 'x' }],
    ] as const) {
      const res = await postForm(url(path), form, { ...wrong, accept: JAVA_ACCEPT });
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('content-type')!, /^application\/json/, path);
      assert.deepEqual(
        res.body,
        { error: 'invalid_client', error_description: 'client authentication failed' },
        path,
      );
    }
    const userinfo = await fetch(url('/oauth/userinfo'), {
      headers: { authorization: 'Bearer not-a-token', accept: JAVA_ACCEPT },
    });
    assert.equal(userinfo.status, 401);
    assert.match(userinfo.headers.get('content-type')!, /^application\/json/);
    assert.equal(((await userinfo.json()) as { error: string }).error, 'invalid_token');
    // The authorization endpoint still renders its error page for a browser.
    const page = await fetch(url('/oauth/authorize?client_id=nobody&response_type=code'), {
      headers: { accept: JAVA_ACCEPT },
    });
    assert.equal(page.status, 400);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
  });

  it('answers a request without client authentication 401 invalid_client (several mechanisms stay 400)', async () => {
    for (const [path, form] of [
      ['/oauth/token', { grant_type: 'client_credentials' }],
      ['/oauth/introspect', { token: 'x' }],
      ['/oauth/revoke', { token: 'x' }],
    ] as const) {
      const res = await postForm(url(path), form);
      assert.equal(res.status, 401, path);
      assert.deepEqual(
        res.body,
        { error: 'invalid_client', error_description: 'no client authentication was included' },
        path,
      );
    }
    const both = await postForm(
      url('/oauth/token'),
      { grant_type: 'client_credentials', client_id: ADMIN.clientId, client_secret: ADMIN.secret },
      basic(ADMIN.clientId, ADMIN.secret),
    );
    assert.equal(both.status, 400);
    assert.equal(both.body.error, 'invalid_request');
  });

  it('answers a grant type the client is not registered for 400 unauthorized_client', async () => {
    const res = await postForm(
      url('/oauth/token'),
      { grant_type: 'authorization_code', code: 'x', redirect_uri: 'https://app.example.com/cb' },
      basic(ADMIN.clientId, ADMIN.secret),
    );
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'unauthorized_client',
      error_description: 'requested grant type is not allowed for this client',
    });
  });

  it('names no CA in the mTLS certificate request, so self-signed certificates are offered too', async () => {
    const port = new URL(tessera.mtlsUrl!).port;
    const handshake = run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`], { timeout: 10_000 });
    // Nothing to send: s_client ends right after the handshake instead of waiting for input.
    handshake.child.stdin?.end();
    const { stdout } = await handshake.catch((error: { stdout: string }) => error);
    assert.match(stdout, /No client certificate CA names sent/);
  });

  it('publishes the authentication methods of introspection and revocation', async () => {
    const metadata = (await (await fetch(url('/.well-known/oauth-authorization-server'))).json()) as Record<
      string,
      unknown
    >;
    const methods = [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'tls_client_auth',
      'self_signed_tls_client_auth',
    ];
    assert.deepEqual(metadata.introspection_endpoint_auth_methods_supported, methods);
    assert.deepEqual(metadata.revocation_endpoint_auth_methods_supported, [...methods, 'none']);
  });

  it('challenges an admin API call without any token with no error code (RFC 6750 3.1)', async () => {
    const none = await fetch(url('/admin/api/clients'));
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="tessera"');
    assert.deepEqual(await none.json(), {
      error: 'invalid_token',
      error_description: 'missing bearer token',
    });
    const malformed = await fetch(url('/admin/api/clients'), { headers: { authorization: 'Basic abc' } });
    assert.equal(malformed.status, 401);
    assert.match(malformed.headers.get('www-authenticate')!, /^Bearer error="invalid_token"/);
  });

  it('answers unrouted methods and paths in the contract shape: 405 with Allow, or 404', async () => {
    const cases: [method: string, path: string, status: number, allow: string | null][] = [
      ['GET', '/oauth/token', 405, 'POST'],
      ['GET', '/oauth/introspect', 405, 'POST'],
      ['PUT', '/oauth/revoke', 405, 'POST'],
      ['DELETE', '/oauth/userinfo', 405, 'GET, HEAD, POST'],
      ['POST', '/oauth/jwks', 405, 'GET, HEAD'],
      ['GET', '/oauth/unknown', 404, null],
      ['GET', '/nothing/here', 404, null],
    ];
    for (const [method, path, status, allow] of cases) {
      const res = await fetch(url(path), { method });
      assert.equal(res.status, status, `${method} ${path}`);
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
      assert.match(res.headers.get('content-type')!, /^application\/json/, `${method} ${path}`);
      const body = (await res.json()) as { error: string };
      assert.equal(body.error, status === 405 ? 'invalid_request' : 'not_found', `${method} ${path}`);
    }
    const root = await tokenFor(tessera.url);
    const apiRoot = await api(tessera, root, 'GET', '');
    assert.equal(apiRoot.status, 404);
    assert.deepEqual(apiRoot.body, { error: 'not_found', error_description: 'no such endpoint' });
  });
});
