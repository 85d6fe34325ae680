import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { clientCredentials, introspect } from '../support/oauth.js';
import { spawnTessera } from '../support/process.js';
import { tempDir } from '../support/tessera.js';

const BLOCK_MARK = 'TESSERA BOOTSTRAP CREDENTIALS';

function generatedFrom(stdout: string): { clientSecret: string; password: string } {
  const clientSecret = /client_secret: (\S+)/.exec(stdout)?.[1];
  const password = /password: {6}(\S+)/.exec(stdout)?.[1];
  assert.ok(clientSecret && password, `no credentials block in:\n${stdout}`);
  return { clientSecret, password };
}

describe('bootstrap and restart (real processes)', () => {
  const data = tempDir();
  after(() => data.remove());

  it('bootstraps once, prints generated credentials once, and keeps tokens and keys across a restart', async () => {
    const env = { TESSERA_DATA_DIR: data.dir, LOG_LEVEL: 'warn' };
    const first = await spawnTessera(env);
    let token: string;
    let jwks: unknown;
    let secret: string;
    try {
      const out = first.stdout();
      assert.equal(out.split(BLOCK_MARK).length - 1, 1, 'exactly one marked block');
      ({ clientSecret: secret } = generatedFrom(out));
      assert.ok(Buffer.from(secret, 'base64url').length >= 32);
      const issued = await clientCredentials(first.url, { clientId: 'tessera-admin', secret });
      assert.equal(issued.status, 200);
      assert.equal(issued.body.scope, 'admin accounts:admin');
      token = String(issued.body.access_token);
      jwks = await (await fetch(`${first.url}/oauth/jwks`)).json();
    } finally {
      assert.equal(await first.stop(), 0);
    }

    const second = await spawnTessera(env);
    try {
      assert.ok(!second.stdout().includes(BLOCK_MARK), 'a later start prints no credentials');
      assert.ok(!second.stdout().includes(secret));
      const info = await introspect(second.url, { clientId: 'tessera-admin', secret }, token);
      assert.equal(info.status, 200, 'the bootstrap secret still works: nothing was re-created');
      assert.equal(info.body.active, true, 'a token issued before the restart is still active');
      assert.deepEqual(await (await fetch(`${second.url}/oauth/jwks`)).json(), jwks);
    } finally {
      assert.equal(await second.stop(), 0);
    }
  });

  it('uses secrets from the environment and never prints them', async () => {
    const dir = tempDir();
    const secret = 'operator-chosen-admin-secret-0123456789abcdef';
    const password = 'operator-chosen-password';
    const proc = await spawnTessera({
      TESSERA_DATA_DIR: dir.dir,
      TESSERA_ADMIN_CLIENT_SECRET: secret,
      TESSERA_ADMIN_PASSWORD: password,
    });
    try {
      assert.ok(!proc.stdout().includes(BLOCK_MARK));
      assert.ok(!proc.stdout().includes(secret) && !proc.stdout().includes(password));
      const issued = await clientCredentials(proc.url, { clientId: 'tessera-admin', secret });
      assert.equal(issued.status, 200);
    } finally {
      assert.equal(await proc.stop(), 0);
      dir.remove();
    }
  });
});
