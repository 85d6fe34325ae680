import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { ADMIN, introspect } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';
import { jwkWithX5c, mtlsToken, selfSignedIdentity, type Identity } from '../support/tls.js';

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'client authentication failed' };

describe('self_signed_tls_client_auth', () => {
  let tessera: RunningTessera;
  let root: string;
  let clientId: string;
  let current: Identity;

  before(async () => {
    tessera = await startTessera({ mtls: true });
    root = await tokenFor(tessera.url);
    current = await selfSignedIdentity('edge-device-7');
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'edge device',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      scope: 'api:read',
      tls_client_certificate_bound_access_tokens: true,
      jwks: { keys: [jwkWithX5c(current)] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.client_secret, undefined, 'no secret for a certificate client');
    clientId = String((created.body.client as { client_id: string }).client_id);
  });
  after(async () => tessera.close());

  it('issues a bound token for the registered certificate', async () => {
    const res = await mtlsToken(tessera, clientId, current);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const seen = await introspect(tessera.url, ADMIN, String(res.body.access_token));
    assert.equal(seen.body.active, true);
    const expected = Buffer.from(new X509Certificate(current.cert).fingerprint256.replace(/:/g, ''), 'hex');
    assert.deepEqual(seen.body.cnf, { 'x5t#S256': expected.toString('base64url') });
  });

  it('refuses a certificate that is not in the registered jwks, and none at all', async () => {
    const stranger = await selfSignedIdentity('edge-device-7');
    const res = await mtlsToken(tessera, clientId, stranger);
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, INVALID_CLIENT);
    const none = await mtlsToken(tessera, clientId, undefined);
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, INVALID_CLIENT);
  });

  it('refuses a certificate from the client CA: self-signed clients are known by their keys only', async () => {
    const issued = await tessera.container.clientCa.issue(clientId);
    const res = await mtlsToken(tessera, clientId, {
      cert: issued.certificate_pem,
      key: issued.private_key_pem,
    });
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, INVALID_CLIENT);
  });

  it('renews by registering the next key beside the current one, then dropping the old', async () => {
    const next = await selfSignedIdentity('edge-device-7');
    const both = await api(tessera, root, 'PATCH', `/clients/${clientId}`, {
      jwks: { keys: [jwkWithX5c(current), jwkWithX5c(next)] },
    });
    assert.equal(both.status, 200, JSON.stringify(both.body));
    assert.equal((await mtlsToken(tessera, clientId, current)).status, 200);
    assert.equal((await mtlsToken(tessera, clientId, next)).status, 200);

    const onlyNext = await api(tessera, root, 'PATCH', `/clients/${clientId}`, {
      jwks: { keys: [jwkWithX5c(next)] },
    });
    assert.equal(onlyNext.status, 200);
    assert.equal((await mtlsToken(tessera, clientId, current)).status, 401);
    assert.equal((await mtlsToken(tessera, clientId, next)).status, 200);
    current = next;
  });

  it('refuses a self-signed client without jwks', async () => {
    const res = await api(tessera, root, 'POST', '/clients', {
      client_name: 'edge without keys',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      scope: 'api:read',
    });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'invalid_client_metadata',
      error_description: 'self_signed_tls_client_auth needs jwks',
    });
  });
});
