import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { api, tokenFor } from '../support/admin.js';
import { ADMIN, introspect } from '../support/oauth.js';
import { startTessera, tempDir, type RunningTessera } from '../support/tessera.js';
import { identityOf, mtlsToken, selfSignedIdentity, send, serverCa } from '../support/tls.js';

const run = promisify(execFile);

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'client authentication failed' };

describe('tls_client_auth over the mTLS listener', () => {
  let tessera: RunningTessera;
  let root: string;
  const files = tempDir('tessera-mtls-');

  /** Registers a tls_client_auth client with a first certificate; returns its id and identity. */
  async function machine(name: string, extra: Record<string, unknown> = {}) {
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: name,
      token_endpoint_auth_method: 'tls_client_auth',
      scope: 'api:read api:write',
      issue_certificate: true,
      ...extra,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const client = created.body.client as { client_id: string };
    const certificate = created.body.certificate as Record<string, unknown>;
    return { clientId: client.client_id, identity: identityOf(certificate), certificate };
  }

  before(async () => {
    tessera = await startTessera({ mtls: true });
    root = await tokenFor(tessera.url);
  });
  after(async () => {
    await tessera.close();
    files.remove();
  });

  it('issues a token for the client certificate, and the token is active', async () => {
    const { clientId, identity } = await machine('svc-token');
    const res = await mtlsToken(tessera, clientId, identity, { scope: 'api:read' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(res.body.scope, 'api:read');
    const seen = await introspect(tessera.url, ADMIN, String(res.body.access_token));
    assert.equal(seen.body.active, true);
    assert.equal(seen.body.client_id, clientId);
    assert.equal(seen.body.cnf, undefined, 'tokens are not bound unless the client asks for it');
  });

  it('binds the token to the certificate when the client asks for bound tokens', async () => {
    const { clientId, identity, certificate } = await machine('svc-bound', {
      tls_client_certificate_bound_access_tokens: true,
    });
    const res = await mtlsToken(tessera, clientId, identity);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const seen = await introspect(tessera.url, ADMIN, String(res.body.access_token));
    assert.deepEqual(seen.body.cnf, { 'x5t#S256': certificate.sha256_thumbprint });
  });

  it('works for an outside client too (curl --cert/--key)', async () => {
    const { clientId, identity } = await machine('svc-curl');
    writeFileSync(path.join(files.dir, 'client.crt'), identity.cert);
    writeFileSync(path.join(files.dir, 'client.key'), identity.key, { mode: 0o600 });
    writeFileSync(path.join(files.dir, 'server.crt'), serverCa(tessera));
    const { stdout } = await run('curl', [
      '--silent',
      '--show-error',
      '--cacert',
      path.join(files.dir, 'server.crt'),
      '--cert',
      path.join(files.dir, 'client.crt'),
      '--key',
      path.join(files.dir, 'client.key'),
      '--data-urlencode',
      'grant_type=client_credentials',
      '--data-urlencode',
      `client_id=${clientId}`,
      '--write-out',
      '\n%{http_code}',
      `${tessera.mtlsUrl}/oauth/token`,
    ]);
    const [body = '', status] = stdout.split('\n');
    assert.equal(status, '200', body);
    const token = JSON.parse(body) as Record<string, unknown>;
    assert.equal(token.token_type, 'Bearer');
    assert.equal(token.scope, 'api:read api:write');
  });

  it('refuses a certificate of another client', async () => {
    const first = await machine('svc-first');
    const second = await machine('svc-second');
    const res = await mtlsToken(tessera, first.clientId, second.identity);
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, INVALID_CLIENT);
  });

  it('refuses a self-signed certificate, even one naming the client', async () => {
    const { clientId } = await machine('svc-selfsigned');
    const forged = await selfSignedIdentity(clientId);
    const res = await mtlsToken(tessera, clientId, forged);
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, INVALID_CLIENT);
  });

  it('refuses an expired certificate that the client CA signed and the client holds', async () => {
    const { clientId } = await machine('svc-expired');
    const day = 86_400_000;
    const expired = await tessera.container.clientCa.issue(clientId, {
      notBefore: new Date(Date.now() - 400 * day),
      notAfter: new Date(Date.now() - day),
    });
    await tessera.container.clientStore.addCertificate(
      clientId,
      {
        serial: expired.serial,
        sha256_thumbprint: expired.sha256_thumbprint,
        not_after: expired.not_after,
        revoked: false,
      },
      new Date().toISOString(),
    );
    const res = await mtlsToken(tessera, clientId, identityOf({ ...expired }));
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, INVALID_CLIENT);
  });

  it('answers a request without a certificate with HTTP 401, not a TLS alert', async () => {
    const { clientId } = await machine('svc-nocert');
    const res = await mtlsToken(tessera, clientId, undefined);
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, INVALID_CLIENT);
    // The plain listener has no certificate to offer either.
    const plain = await send(`${tessera.url}/oauth/token`, {
      form: { grant_type: 'client_credentials', client_id: clientId },
    });
    assert.equal(plain.status, 401);
    assert.deepEqual(plain.body, INVALID_CLIENT);
  });

  it('renews with overlap: both certificates work until the old one is revoked', async () => {
    const { clientId, identity: old, certificate: first } = await machine('svc-renew');
    const renewed = await api(tessera, root, 'POST', `/clients/${clientId}/certificate`);
    assert.equal(renewed.status, 201, JSON.stringify(renewed.body));
    const fresh = identityOf(renewed.body);

    assert.equal((await mtlsToken(tessera, clientId, old)).status, 200);
    assert.equal((await mtlsToken(tessera, clientId, fresh)).status, 200);

    const revoked = await api(
      tessera,
      root,
      'DELETE',
      `/clients/${clientId}/certificate/${String(first.serial)}`,
    );
    assert.equal(revoked.status, 204);
    const refused = await mtlsToken(tessera, clientId, old);
    assert.equal(refused.status, 401);
    assert.deepEqual(refused.body, INVALID_CLIENT);
    assert.equal((await mtlsToken(tessera, clientId, fresh)).status, 200);
  });

  it('refuses a disabled client even with a valid certificate', async () => {
    const { clientId, identity } = await machine('svc-disabled');
    await api(tessera, root, 'PATCH', `/clients/${clientId}`, { disabled: true });
    const res = await mtlsToken(tessera, clientId, identity);
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'invalid_client');
  });

  it('serves introspection and revocation on the mTLS listener with certificate authentication', async () => {
    const { clientId, identity } = await machine('svc-introspect');
    const token = String((await mtlsToken(tessera, clientId, identity)).body.access_token);
    const ca = serverCa(tessera);
    const seen = await send(`${tessera.mtlsUrl}/oauth/introspect`, {
      form: { token, client_id: clientId },
      identity,
      ca,
    });
    assert.equal(seen.status, 200);
    assert.equal(seen.body.active, true);
    const gone = await send(`${tessera.mtlsUrl}/oauth/revoke`, {
      form: { token, client_id: clientId },
      identity,
      ca,
    });
    assert.equal(gone.status, 200);
    assert.deepEqual((await introspect(tessera.url, ADMIN, token)).body, { active: false });
  });
});
