import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { adminHarness, api, credentialsOf, tokenFor } from '../support/admin.js';
import { twoNodesOnRedis } from '../support/redis.js';
import { codeThroughForms } from '../support/browser.js';
import {
  ADMIN,
  clientCredentials,
  introspect,
  postForm,
  redeemCode,
  revoke,
  type Credentials,
} from '../support/oauth.js';
import { identityOf, mtlsToken } from '../support/tls.js';

const ORDERS = 'https://orders.example.com';
const REDIRECT = 'https://app.example.com/callback';

/** What a resource server written with jose alone does: fetch the JWKS over HTTP, verify. */
async function verifyAsResourceServer(issuer: string, token: string, audience: string) {
  const metadata = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as {
    jwks_uri: string;
  };
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
  return jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt' });
}

describe('JWT access tokens (RFC 9068)', () => {
  const h = adminHarness({ mtls: true });
  let machine: Credentials;

  before(async () => {
    const resource = await api(h.tessera, h.token, 'POST', '/resources', {
      identifier: ORDERS,
      name: 'Orders',
      scope: 'api:read api:write',
      access_token_format: 'jwt',
    });
    assert.equal(resource.status, 201, JSON.stringify(resource.body));
    machine = credentialsOf(
      await api(h.tessera, h.token, 'POST', '/clients', { client_name: 'jwt worker', scope: 'api:read' }),
    );
  });

  const jwtFor = async (creds: Credentials) => {
    const res = await clientCredentials(h.tessera.url, creds, { resource: ORDERS });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return String(res.body.access_token);
  };

  it('verifies with jose against /oauth/jwks for its audience only, with the claims of RFC 9068, signed ES256', async () => {
    const token = await jwtFor(machine);
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
    const { payload, protectedHeader } = await verifyAsResourceServer(h.tessera.url, token, ORDERS);
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.ok(protectedHeader.kid);
    assert.deepEqual(Object.keys(payload).sort(), [
      'aud',
      'client_id',
      'exp',
      'iat',
      'iss',
      'jti',
      'scope',
      'sub',
    ]);
    assert.equal(payload.iss, h.tessera.url);
    assert.equal(payload.aud, ORDERS);
    assert.equal(payload.sub, machine.clientId, 'without a user, the client is the subject');
    assert.equal(payload.client_id, machine.clientId);
    assert.equal(payload.scope, 'api:read');
    assert.equal(payload.exp! - payload.iat!, 3600);
    await assert.rejects(() => verifyAsResourceServer(h.tessera.url, token, 'https://other.example.com'), {
      code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
  });

  it('introspects active, and inactive once revoked, on the same store', async () => {
    const token = await jwtFor(machine);
    const info = await introspect(h.tessera.url, ADMIN, token);
    assert.equal(info.body.active, true, JSON.stringify(info.body));
    assert.deepEqual(
      [info.body.aud, info.body.scope, info.body.client_id],
      [ORDERS, 'api:read', machine.clientId],
    );
    assert.equal(info.body.grant_id, undefined);

    const other = credentialsOf(
      await api(h.tessera, h.token, 'POST', '/clients', { client_name: 'jwt bystander', scope: 'api:read' }),
    );
    const refused = await revoke(h.tessera.url, other, token);
    assert.deepEqual(
      [refused.status, refused.body.error],
      [400, 'invalid_request'],
      'only its own client revokes it',
    );
    assert.equal((await introspect(h.tessera.url, ADMIN, token)).body.active, true);

    assert.equal((await revoke(h.tessera.url, machine, token)).status, 200);
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, token)).body, { active: false });
    const fresh = await jwtFor(machine);
    assert.equal((await introspect(h.tessera.url, ADMIN, fresh)).body.active, true, 'other tokens live on');
  });

  it('reads inactive while its client is disabled, and once the client is deleted; other accounts see nothing', async () => {
    const creds = credentialsOf(
      await api(h.tessera, h.token, 'POST', '/clients', {
        client_name: 'jwt short-lived',
        scope: 'api:read',
      }),
    );
    const token = await jwtFor(creds);
    await api(h.tessera, h.token, 'PATCH', `/clients/${creds.clientId}`, { disabled: true });
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, token)).body, { active: false });
    await api(h.tessera, h.token, 'PATCH', `/clients/${creds.clientId}`, { disabled: false });
    assert.equal((await introspect(h.tessera.url, ADMIN, token)).body.active, true);

    const acme = await api(h.tessera, h.token, 'POST', '/accounts', { name: 'Acme JWT' });
    const acmeAdmin = acme.body.admin_client as { client_id: string; client_secret: string };
    const foreign = await introspect(
      h.tessera.url,
      { clientId: acmeAdmin.client_id, secret: acmeAdmin.client_secret },
      token,
    );
    assert.deepEqual(foreign.body, { active: false });

    await api(h.tessera, h.token, 'DELETE', `/clients/${creds.clientId}`);
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, token)).body, { active: false });
  });

  it('carries the service user as sub, and the certificate binding as cnf', async () => {
    const user = await api(h.tessera, h.token, 'POST', '/users', {
      username: 'jwt-robot',
      password: 'jwt robot password',
      role: 'member',
    });
    const robot = credentialsOf(
      await api(h.tessera, h.token, 'POST', '/clients', {
        client_name: 'jwt as a user',
        scope: 'api:read',
        service_user_id: user.body.id,
      }),
    );
    const { payload } = await verifyAsResourceServer(h.tessera.url, await jwtFor(robot), ORDERS);
    assert.equal(payload.sub, user.body.id);

    const bound = await api(h.tessera, h.token, 'POST', '/clients', {
      client_name: 'jwt bound',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
      scope: 'api:read',
      issue_certificate: true,
    });
    assert.equal(bound.status, 201, JSON.stringify(bound.body));
    const clientId = String((bound.body.client as { client_id: string }).client_id);
    const identity = identityOf(bound.body.certificate as Record<string, unknown>);
    const res = await mtlsToken(h.tessera, clientId, identity, { resource: ORDERS });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const token = String(res.body.access_token);
    const verified = await verifyAsResourceServer(h.tessera.url, token, ORDERS);
    const thumbprint = Buffer.from(
      new X509Certificate(identity.cert).fingerprint256.replace(/:/g, ''),
      'hex',
    ).toString('base64url');
    assert.deepEqual(verified.payload.cnf, { 'x5t#S256': thumbprint });
  });

  it('names the grant for tokens of users, so a revoked grant makes them inactive', async () => {
    const web = await api(h.tessera, h.token, 'POST', '/clients', {
      client_name: 'jwt spa',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT],
      scope: 'openid api:read',
      require_consent: false,
    });
    const clientId = String((web.body.client as { client_id: string }).client_id);
    await api(h.tessera, h.token, 'POST', '/users', {
      username: 'jwt-user',
      password: 'jwt user password',
      role: 'member',
    });
    const { code, verifier } = await codeThroughForms(h.tessera.url, {
      clientId,
      redirectUri: REDIRECT,
      scope: 'openid api:read',
      username: 'jwt-user',
      password: 'jwt user password',
      extra: { resource: ORDERS },
    });
    const tokens = await redeemCode(
      h.tessera.url,
      { clientId, redirectUri: REDIRECT, code, verifier },
      { resource: ORDERS },
    );
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    const token = String(tokens.body.access_token);
    const { payload } = await verifyAsResourceServer(h.tessera.url, token, ORDERS);
    assert.equal(typeof payload.grant_id, 'string');
    assert.equal((await introspect(h.tessera.url, ADMIN, token)).body.active, true);

    // Refresh-token reuse revokes the whole grant, and with it this JWT.
    const refresh = {
      grant_type: 'refresh_token',
      refresh_token: String(tokens.body.refresh_token),
      client_id: clientId,
    };
    assert.equal((await postForm(`${h.tessera.url}/oauth/token`, refresh)).status, 200);
    assert.equal((await postForm(`${h.tessera.url}/oauth/token`, refresh)).status, 400, 'reuse');
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, token)).body, { active: false });
  });
});

describe('JWT access tokens signed RS256 (TESSERA_JWT_ALG)', () => {
  const h = adminHarness({ env: { TESSERA_JWT_ALG: 'RS256' } });

  it('signs with the RSA key of /oauth/jwks', async () => {
    await api(h.tessera, h.token, 'POST', '/resources', {
      identifier: ORDERS,
      name: 'Orders',
      scope: 'api:read',
      access_token_format: 'jwt',
    });
    const creds = credentialsOf(
      await api(h.tessera, h.token, 'POST', '/clients', { client_name: 'rsa worker', scope: 'api:read' }),
    );
    const res = await clientCredentials(h.tessera.url, creds, { resource: ORDERS });
    const token = String(res.body.access_token);
    assert.equal(decodeProtectedHeader(token).alg, 'RS256');
    const { payload } = await verifyAsResourceServer(h.tessera.url, token, ORDERS);
    assert.equal(payload.client_id, creds.clientId);
  });
});

describe('JWT access tokens on two nodes', () => {
  const admin = { clientId: 'tessera-admin', secret: 'jwt-two-nodes-admin-secret-0123456789abcdef' };
  // Nodes of one deployment share its issuer.
  const nodes = twoNodesOnRedis(13, {
    TESSERA_ADMIN_CLIENT_SECRET: admin.secret,
    ISSUER: 'http://auth.tessera.test',
  });

  it('introspect on either node, and a revocation on one makes the token inactive on the other', async () => {
    const { one, two } = nodes;
    const root = await tokenFor(one.url, admin);
    await api(one.url, root, 'POST', '/resources', {
      identifier: ORDERS,
      name: 'Orders',
      scope: 'api:read',
      access_token_format: 'jwt',
    });
    const creds = credentialsOf(
      await api(one.url, root, 'POST', '/clients', { client_name: 'both', scope: 'api:read' }),
    );
    const token = String((await clientCredentials(two.url, creds, { resource: ORDERS })).body.access_token);
    assert.equal((await introspect(one.url, admin, token)).body.active, true);
    assert.equal((await revoke(two.url, creds, token)).status, 200);
    assert.deepEqual((await introspect(one.url, admin, token)).body, { active: false });
  });
});
