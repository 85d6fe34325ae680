import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN,
  clientCredentials,
  introspect,
  postForm,
  revoke,
  type Credentials,
} from '../support/oauth.js';
import { registerMachine, startTessera, type RunningTessera } from '../support/tessera.js';

describe('introspection and revocation', () => {
  let tessera: RunningTessera;
  let machine: Credentials;
  let otherTenant: Credentials;

  before(async () => {
    tessera = await startTessera();
    const { clientStore } = tessera.container;
    const now = new Date().toISOString();
    await clientStore.createAccount({
      id: 'acme',
      name: 'Acme',
      max_clients: null,
      created_at: now,
      updated_at: now,
    });
    machine = await registerMachine(tessera, { client_name: 'machine' });
    otherTenant = await registerMachine(tessera, { account_id: 'acme', client_name: 'acme machine' });
  });
  after(async () => tessera.close());

  const issue = async (creds: Credentials) =>
    String((await clientCredentials(tessera.url, creds)).body.access_token);

  it('introspects a live token with its claims', async () => {
    const token = await issue(machine);
    const res = await introspect(tessera.url, machine, token);
    assert.equal(res.status, 200);
    const { iat, exp, jti, ...rest } = res.body as Record<string, number | string>;
    assert.deepEqual(rest, {
      active: true,
      client_id: machine.clientId,
      iss: tessera.url,
      scope: 'api:read',
      token_type: 'Bearer',
    });
    assert.equal(Number(exp) - Number(iat), 3600);
    assert.equal(jti, undefined);
  });

  it('lets another client of the same account introspect the token', async () => {
    const token = await issue(machine);
    const res = await introspect(tessera.url, ADMIN, token);
    assert.equal(res.body.active, true);
    assert.equal(res.body.client_id, machine.clientId);
  });

  it("reads another account's token as exactly {active: false}, both ways", async () => {
    const ours = await issue(machine);
    const theirs = await issue(otherTenant);
    assert.deepEqual((await introspect(tessera.url, otherTenant, ours)).body, { active: false });
    assert.deepEqual((await introspect(tessera.url, machine, theirs)).body, { active: false });
    assert.equal((await introspect(tessera.url, otherTenant, theirs)).body.active, true);
  });

  it('reads an unknown token as exactly {active: false}', async () => {
    const res = await introspect(tessera.url, machine, 'this-token-was-never-issued-by-anyone');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { active: false });
  });

  it('requires client authentication', async () => {
    const token = await issue(machine);
    const anonymous = await postForm(`${tessera.url}/oauth/introspect`, { token });
    assert.equal(anonymous.status, 401);
    assert.deepEqual(anonymous.body, {
      error: 'invalid_client',
      error_description: 'no client authentication was included',
    });
    const wrong = await introspect(tessera.url, { ...machine, secret: 'wrong' }, token);
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, {
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
  });

  it('revokes a token: 200, then it introspects {active: false}', async () => {
    const token = await issue(machine);
    const res = await revoke(tessera.url, machine, token);
    assert.equal(res.status, 200);
    assert.deepEqual((await introspect(tessera.url, machine, token)).body, { active: false });
    assert.deepEqual((await introspect(tessera.url, ADMIN, token)).body, { active: false });
  });

  it("does not let a client revoke another client's token", async () => {
    const token = await issue(machine);
    const res = await revoke(tessera.url, ADMIN, token);
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_request');
    assert.equal((await introspect(tessera.url, machine, token)).body.active, true);
  });

  it('answers revocation of an unknown token with 200, as RFC 7009 asks', async () => {
    const res = await revoke(tessera.url, machine, 'never-issued-token-value-0000000000');
    assert.equal(res.status, 200);
  });
});
