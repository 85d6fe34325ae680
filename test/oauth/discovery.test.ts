import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTessera, type RunningTessera } from '../support/tessera.js';

/**
 * The checks of Authlib's `AuthorizationServerMetadata.validate()` (authlib/oauth2/rfc8414/models.py),
 * without its https checks, which it lifts for a plain-http issuer under AUTHLIB_INSECURE_TRANSPORT.
 */
function strictMetadataProblems(metadata: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const isList = (key: string) => metadata[key] === undefined || Array.isArray(metadata[key]);
  if (typeof metadata.issuer !== 'string' || /[?#]/.test(metadata.issuer))
    problems.push('"issuer" is invalid');
  if (!Array.isArray(metadata.response_types_supported))
    problems.push('"response_types_supported" is required');
  const grants = (metadata.grant_types_supported as string[] | undefined) ?? [
    'authorization_code',
    'implicit',
  ];
  if (grants.includes('authorization_code') && typeof metadata.authorization_endpoint !== 'string')
    problems.push('"authorization_endpoint" is required');
  if (typeof metadata.token_endpoint !== 'string') problems.push('"token_endpoint" is required');
  for (const key of [
    'scopes_supported',
    'response_modes_supported',
    'grant_types_supported',
    'code_challenge_methods_supported',
    'ui_locales_supported',
  ]) {
    if (!isList(key)) problems.push(`"${key}" MUST be JSON array`);
  }
  for (const endpoint of ['token', 'introspection', 'revocation']) {
    const methods = metadata[`${endpoint}_endpoint_auth_methods_supported`];
    const key = `${endpoint}_endpoint_auth_signing_alg_values_supported`;
    const algs = metadata[key];
    if (!isList(`${endpoint}_endpoint_auth_methods_supported`) || !isList(key)) {
      problems.push(`"${key}" MUST be JSON array`);
      continue;
    }
    const needsAlgs = ['private_key_jwt', 'client_secret_jwt'].some((m) =>
      (methods as string[] | undefined)?.includes(m),
    );
    if (needsAlgs && algs === undefined) problems.push(`"${key}" is required`);
    if ((algs as string[] | undefined)?.includes('none'))
      problems.push(`the value "none" MUST NOT be used in "${key}"`);
  }
  return problems;
}

describe('metadata and keys', () => {
  let tessera: RunningTessera;
  before(async () => {
    tessera = await startTessera({ env: { TESSERA_SCOPES: 'orders:read orders:write' } });
  });
  after(async () => tessera.close());

  const get = async (path: string) => {
    const res = await fetch(`${tessera.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('serves the same document at both well-known paths', async () => {
    const oauth = await get('/.well-known/oauth-authorization-server');
    const oidc = await get('/.well-known/openid-configuration');
    assert.equal(oauth.status, 200);
    assert.deepEqual(oauth.body, oidc.body);
  });

  it('names the contract endpoints and capabilities', async () => {
    const { body } = await get('/.well-known/oauth-authorization-server');
    const base = tessera.url;
    assert.equal(body.issuer, base);
    assert.equal(body.authorization_endpoint, `${base}/oauth/authorize`);
    assert.equal(body.token_endpoint, `${base}/oauth/token`);
    assert.equal(body.introspection_endpoint, `${base}/oauth/introspect`);
    assert.equal(body.revocation_endpoint, `${base}/oauth/revoke`);
    assert.equal(body.jwks_uri, `${base}/oauth/jwks`);
    assert.equal(body.userinfo_endpoint, `${base}/oauth/userinfo`);
    assert.deepEqual(body.response_types_supported, ['code']);
    assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(body.grant_types_supported, [
      'authorization_code',
      'refresh_token',
      'client_credentials',
    ]);
    assert.deepEqual(body.scopes_supported, [
      'openid',
      'profile',
      'email',
      'offline_access',
      'admin',
      'accounts:admin',
      'clients:read',
      'clients:write',
      'users:read',
      'users:write',
      'orders:read',
      'orders:write',
    ]);
    const methods = body.token_endpoint_auth_methods_supported as string[];
    assert.deepEqual(methods, [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'tls_client_auth',
      'self_signed_tls_client_auth',
      'none',
    ]);
    assert.ok(!methods.includes('client_secret_jwt'), 'hashed secrets cannot back client_secret_jwt');
    assert.equal(body.tls_client_certificate_bound_access_tokens, true);
    assert.equal(body.mtls_endpoint_aliases, undefined, 'no aliases while the mTLS listener is off');
    // Tokens are bound to certificates; DPoP is not offered.
    assert.equal(body.dpop_signing_alg_values_supported, undefined);
  });

  it('names the mTLS endpoint aliases on the issuer host and the mTLS port', async () => {
    const withMtls = await startTessera({ mtls: true });
    try {
      const body = (await (
        await fetch(`${withMtls.url}/.well-known/oauth-authorization-server`)
      ).json()) as Record<string, unknown>;
      const port = new URL(withMtls.mtlsUrl!).port;
      assert.deepEqual(body.mtls_endpoint_aliases, {
        token_endpoint: `https://127.0.0.1:${port}/oauth/token`,
        introspection_endpoint: `https://127.0.0.1:${port}/oauth/introspect`,
        revocation_endpoint: `https://127.0.0.1:${port}/oauth/revoke`,
        userinfo_endpoint: `https://127.0.0.1:${port}/oauth/userinfo`,
      });
    } finally {
      await withMtls.close();
    }
  });

  it('passes a strict RFC 8414 validator, with the client assertion algorithms of every endpoint', async () => {
    const { body } = await get('/.well-known/oauth-authorization-server');
    assert.deepEqual(strictMetadataProblems(body), []);
    const algs = ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'];
    for (const endpoint of ['token', 'introspection', 'revocation']) {
      assert.ok(
        (body[`${endpoint}_endpoint_auth_methods_supported`] as string[]).includes('private_key_jwt'),
      );
      assert.deepEqual(body[`${endpoint}_endpoint_auth_signing_alg_values_supported`], algs, endpoint);
    }
    // Without them, the validator refuses the document, as Authlib does.
    const { revocation_endpoint_auth_signing_alg_values_supported: _dropped, ...incomplete } = body;
    assert.deepEqual(strictMetadataProblems(incomplete), [
      '"revocation_endpoint_auth_signing_alg_values_supported" is required',
    ]);
  });

  it('advertises RP-initiated and back-channel logout', async () => {
    const { body } = await get('/.well-known/openid-configuration');
    assert.equal(body.end_session_endpoint, `${tessera.url}/oauth/logout`);
    assert.equal(body.backchannel_logout_supported, true);
    assert.equal(body.backchannel_logout_session_supported, true);
  });

  it('publishes public signing keys only', async () => {
    const { status, body } = await get('/oauth/jwks');
    assert.equal(status, 200);
    const keys = body.keys as Record<string, unknown>[];
    assert.deepEqual(keys.map((k) => k.kty).sort(), ['EC', 'RSA']);
    for (const key of keys) {
      for (const privatePart of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[privatePart], undefined);
    }
  });
});
