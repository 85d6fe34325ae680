import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN, basic, clientCredentials, introspect, postForm, type Credentials } from '../support/oauth.js';
import { registerMachine, startTessera, type RunningTessera } from '../support/tessera.js';

describe('client_credentials grant', () => {
  let tessera: RunningTessera;
  let machine: Credentials;
  let postClient: Credentials;
  let noScopes: Credentials;

  before(async () => {
    tessera = await startTessera();
    machine = await registerMachine(tessera, { client_name: 'machine', scope: 'api:read api:write' });
    postClient = await registerMachine(tessera, {
      client_name: 'post client',
      token_endpoint_auth_method: 'client_secret_post',
    });
    noScopes = await registerMachine(tessera, { client_name: 'no scopes', scope: '' });
  });
  after(async () => tessera.close());

  it('issues an opaque bearer token with client_secret_basic', async () => {
    const res = await clientCredentials(tessera.url, machine, { scope: 'api:read' });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.scope, 'api:read');
    assert.equal(res.body.expires_in, 3600);
    assert.match(String(res.body.access_token), /^[A-Za-z0-9_-]{32,}$/, 'opaque, not a JWT');
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('issues a token with client_secret_post', async () => {
    const res = await clientCredentials(tessera.url, postClient);
    assert.equal(res.status, 200);
    assert.equal(res.body.scope, 'api:read');
  });

  it('grants every allowed scope when no scope is asked for', async () => {
    const res = await clientCredentials(tessera.url, machine);
    assert.equal(res.status, 200);
    assert.equal(res.body.scope, 'api:read api:write');
    const info = await introspect(tessera.url, ADMIN, String(res.body.access_token));
    assert.equal(info.body.scope, 'api:read api:write');
  });

  it('grants several allowed scopes in any order, and only those', async () => {
    for (const scope of ['api:read api:write', 'api:write api:read', 'api:write']) {
      const res = await clientCredentials(tessera.url, machine, { scope });
      assert.equal(res.status, 200, scope);
      const granted = String(res.body.scope).split(' ').sort();
      assert.deepEqual(granted, scope.split(' ').filter(Boolean).sort(), scope);
    }
  });

  it('refuses a known scope the client is not allowed: 400 invalid_scope', async () => {
    const res = await clientCredentials(tessera.url, machine, { scope: 'api:read admin' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'invalid_scope',
      error_description: 'requested scope is not allowed',
      scope: 'admin',
    });
  });

  it('refuses a scope the deployment does not know: 400 invalid_scope', async () => {
    const res = await clientCredentials(tessera.url, machine, { scope: 'api:read made-up' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'invalid_scope',
      error_description: 'requested scope is not allowed',
      scope: 'made-up',
    });
  });

  it('gives a client without allowed scopes no scope at all, and refuses any it asks for', async () => {
    const none = await clientCredentials(tessera.url, noScopes);
    assert.equal(none.status, 200);
    assert.equal(none.body.scope, undefined);
    const asked = await clientCredentials(tessera.url, noScopes, { scope: 'api:read' });
    assert.equal(asked.status, 400);
    assert.equal(asked.body.error, 'invalid_scope');
  });

  it('answers a wrong secret with 401 invalid_client, for both methods', async () => {
    for (const creds of [
      { ...machine, secret: `${machine.secret}x` },
      { ...postClient, secret: 'wrong' },
      { clientId: 'no-such-client', secret: 'whatever' },
    ]) {
      const res = await clientCredentials(tessera.url, creds);
      assert.equal(res.status, 401, creds.clientId);
      assert.deepEqual(res.body, {
        error: 'invalid_client',
        error_description: 'client authentication failed',
      });
    }
  });

  it('holds each client to its registered secret method, with a Basic challenge to Basic requests', async () => {
    const refused = {
      error: 'invalid_client',
      error_description: 'client authentication failed',
    };
    // RFC 7591 section 2: client_secret_basic sending its secret in the body, and the reverse.
    const inBody = await clientCredentials(tessera.url, { ...machine, method: 'post' });
    assert.equal(inBody.status, 401);
    assert.deepEqual(inBody.body, refused);
    assert.equal(inBody.headers.get('www-authenticate'), null);
    const inHeader = await clientCredentials(tessera.url, { ...postClient, method: 'basic' });
    assert.equal(inHeader.status, 401);
    assert.deepEqual(inHeader.body, refused);
    assert.match(inHeader.headers.get('www-authenticate') ?? '', /^Basic realm="http:\/\/127\.0\.0\.1:\d+"/);
    // Each method still works as registered.
    assert.equal((await clientCredentials(tessera.url, machine)).status, 200);
    assert.equal((await clientCredentials(tessera.url, postClient)).status, 200);
  });

  it('challenges every 401 to a Basic request, an empty client id included (RFC 6749 5.2)', async () => {
    const empty = await postForm(
      `${tessera.url}/oauth/token`,
      { grant_type: 'client_credentials' },
      basic('', 'x'),
    );
    assert.equal(empty.status, 401);
    assert.deepEqual(empty.body, {
      error: 'invalid_client',
      error_description: 'no client authentication was included',
    });
    assert.match(empty.headers.get('www-authenticate') ?? '', /^Basic realm="/);
    const wrong = await clientCredentials(tessera.url, { ...machine, secret: 'not-the-secret' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic realm="/);
  });

  it('refuses credentials sent both in the header and in the body', async () => {
    const res = await postForm(
      `${tessera.url}/oauth/token`,
      { grant_type: 'client_credentials', client_id: machine.clientId, client_secret: machine.secret },
      basic(machine.clientId, machine.secret),
    );
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'invalid_request',
      error_description: 'client authentication must only be provided using one mechanism',
    });
  });

  it('refuses the secret hash itself as a secret', async () => {
    const stored = await tessera.container.clientStore.getClient(machine.clientId);
    const res = await clientCredentials(tessera.url, { ...machine, secret: stored!.secrets[0]!.hash });
    assert.equal(res.status, 401);
  });

  it('stores secrets only as argon2id hashes', async () => {
    const stored = await tessera.container.clientStore.getClient(machine.clientId);
    assert.match(stored!.secrets[0]!.hash, /^\$argon2id\$v=19\$m=19456,(t=2,p=1|p=1,t=2)\$/);
    assert.ok(!JSON.stringify(stored).includes(machine.secret));
    assert.ok(Buffer.from(machine.secret, 'base64url').length >= 32, 'at least 256 bits');
  });

  it('answers a grant type the client lacks, and a missing grant_type, with RFC 6749 errors', async () => {
    const code = await postForm(`${tessera.url}/oauth/token`, {
      grant_type: 'authorization_code',
      code: 'x',
      redirect_uri: 'https://a.example/cb',
      code_verifier: 'a'.repeat(43),
      client_id: postClient.clientId,
      client_secret: postClient.secret,
    });
    assert.equal(code.status, 400);
    assert.equal(code.body.error, 'unauthorized_client');
    const missing = await postForm(`${tessera.url}/oauth/token`, {
      client_id: postClient.clientId,
      client_secret: postClient.secret,
    });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body, {
      error: 'invalid_request',
      error_description: "missing required parameter 'grant_type'",
    });
    const unsupported = await postForm(`${tessera.url}/oauth/token`, {
      grant_type: 'password',
      client_id: postClient.clientId,
      client_secret: postClient.secret,
    });
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.error, 'unsupported_grant_type');
  });
});
