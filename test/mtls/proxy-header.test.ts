import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { ADMIN, introspect } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';
import { identityOf, send, type Identity } from '../support/tls.js';

/** The proxy connects from here; the listener is on 127.0.0.1, so anyone else comes from there. */
const PROXY = '127.0.0.2';
const HEADER = 'x-ssl-client-cert';

describe('client certificates from a TLS-terminating proxy', () => {
  let tessera: RunningTessera;
  let clientId: string;
  let identity: Identity;

  before(async () => {
    tessera = await startTessera({
      env: {
        TESSERA_MTLS_PROXY_HEADER: 'X-SSL-Client-Cert',
        TESSERA_TRUSTED_PROXIES: `${PROXY}/32, 10.0.0.0/8`,
      },
    });
    const root = await tokenFor(tessera.url);
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'behind the proxy',
      token_endpoint_auth_method: 'tls_client_auth',
      scope: 'api:read',
      tls_client_certificate_bound_access_tokens: true,
      issue_certificate: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    clientId = String((created.body.client as { client_id: string }).client_id);
    identity = identityOf(created.body.certificate as Record<string, unknown>);
  });
  after(async () => tessera.close());

  const token = (from: string, header: string | undefined) =>
    send(`${tessera.url}/oauth/token`, {
      form: { grant_type: 'client_credentials', client_id: clientId },
      localAddress: from,
      ...(header === undefined ? {} : { headers: { [HEADER]: header } }),
    });

  it('honours the URL-encoded PEM (nginx $ssl_client_escaped_cert) from a trusted proxy, and binds to it', async () => {
    const res = await token(PROXY, encodeURIComponent(identity.cert));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const seen = await introspect(tessera.url, ADMIN, String(res.body.access_token));
    const expected = Buffer.from(new X509Certificate(identity.cert).fingerprint256.replace(/:/g, ''), 'hex');
    assert.deepEqual(seen.body.cnf, { 'x5t#S256': expected.toString('base64url') });
  });

  it('also takes the bare base64 DER body', async () => {
    const der = new X509Certificate(identity.cert).raw.toString('base64');
    assert.equal((await token(PROXY, der)).status, 200);
  });

  it('ignores the header from an address that is not a trusted proxy', async () => {
    const res = await token('127.0.0.1', encodeURIComponent(identity.cert));
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, {
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
  });

  it('treats a trusted proxy without the header, or with garbage in it, as no certificate', async () => {
    for (const header of [undefined, 'not-a-certificate', '%E0%A4%A']) {
      const res = await token(PROXY, header);
      assert.equal(res.status, 401, String(header));
      assert.equal(res.body.error, 'invalid_client');
    }
  });

  it('checks a bound token at userinfo and the admin API against the forwarded certificate', async () => {
    const issued = await token(PROXY, encodeURIComponent(identity.cert));
    const bearer = { authorization: `Bearer ${String(issued.body.access_token)}` };
    const admin = (from: string, header?: string) =>
      send(`${tessera.url}/admin/api/clients`, {
        localAddress: from,
        headers: { ...bearer, ...(header ? { [HEADER]: header } : {}) },
      });
    // The token has no admin scope: with its certificate it gets as far as the scope check.
    assert.equal((await admin(PROXY, encodeURIComponent(identity.cert))).status, 403);
    const spoofed = await admin('127.0.0.1', encodeURIComponent(identity.cert));
    assert.equal(spoofed.status, 401);
    assert.equal(spoofed.body.error, 'invalid_token');
  });
});
