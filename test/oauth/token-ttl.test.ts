import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { clientCredentials, introspect, type Credentials } from '../support/oauth.js';
import { registerMachine, startTessera, type RunningTessera } from '../support/tessera.js';

describe('per-client access-token lifetime', () => {
  let tessera: RunningTessera;
  const register = (name: string, ttl?: number): Promise<Credentials> => {
    return registerMachine(tessera, {
      client_name: name,
      ...(ttl === undefined ? {} : { access_token_ttl: ttl }),
    });
  };

  before(async () => {
    tessera = await startTessera({
      env: { TESSERA_ACCESS_TOKEN_TTL: '900', TESSERA_MAX_ACCESS_TOKEN_TTL: '7200' },
    });
  });
  after(async () => tessera.close());

  for (const ttl of [60, 300, 7200]) {
    it(`issues tokens living exactly ${ttl}s for a client with access_token_ttl ${ttl}`, async () => {
      const creds = await register(`ttl ${ttl}`, ttl);
      const res = await clientCredentials(tessera.url, creds);
      assert.equal(res.status, 200);
      assert.equal(res.body.expires_in, ttl);
      const info = await introspect(tessera.url, creds, String(res.body.access_token));
      assert.equal(Number(info.body.exp) - Number(info.body.iat), ttl);
    });
  }

  it('gives a client without its own lifetime TESSERA_ACCESS_TOKEN_TTL', async () => {
    const creds = await register('default ttl');
    assert.equal((await tessera.container.clientStore.getClient(creds.clientId))!.access_token_ttl, 900);
    const res = await clientCredentials(tessera.url, creds);
    assert.equal(res.body.expires_in, 900);
  });

  it('never issues beyond TESSERA_MAX_ACCESS_TOKEN_TTL, even for a client stored with more', async () => {
    const creds = await register('too long', 7200);
    await tessera.container.clientStore.updateClient(creds.clientId, { access_token_ttl: 86400 });
    const res = await clientCredentials(tessera.url, creds);
    assert.equal(res.body.expires_in, 7200);
  });

  it('applies a changed lifetime to tokens issued afterwards only', async () => {
    const creds = await register('changing', 600);
    const before = await clientCredentials(tessera.url, creds);
    const changed = await api(tessera, await tokenFor(tessera.url), 'PATCH', `/clients/${creds.clientId}`, {
      access_token_ttl: 120,
    });
    assert.equal(changed.status, 200);
    const afterChange = await clientCredentials(tessera.url, creds);
    assert.equal(afterChange.body.expires_in, 120);
    const old = await introspect(tessera.url, creds, String(before.body.access_token));
    assert.equal(Number(old.body.exp) - Number(old.body.iat), 600);
  });
});
