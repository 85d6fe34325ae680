import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { basic, type Credentials } from '../support/oauth.js';
import { spawnTessera, untilPrinted, type TesseraProcess } from '../support/process.js';
import { tempDir } from '../support/tessera.js';
import { send } from '../support/tls.js';

/**
 * TESSERA_WORKERS=2 on the embedded store: two processes behind one port, sharing the SQLite
 * file. Connections are spread over the workers, so a handful of requests (each on its own
 * connection) reaches both.
 */
describe('several workers on one port', () => {
  const data = tempDir();
  const admin: Credentials = {
    clientId: 'tessera-admin',
    secret: 'workers-admin-secret-0123456789abcdefghij',
  };
  let tessera: TesseraProcess;

  before(async () => {
    tessera = await spawnTessera({
      TESSERA_DATA_DIR: data.dir,
      TESSERA_WORKERS: '2',
      TESSERA_ADMIN_CLIENT_SECRET: admin.secret,
      TESSERA_ADMIN_PASSWORD: 'workers-admin-password',
    });
  });
  after(async () => {
    await tessera?.stop();
    data.remove();
  });

  /** A token request on a fresh connection, so the workers take turns. */
  const token = async (creds: Credentials) =>
    (
      await send(`${tessera.url}/oauth/token`, {
        form: { grant_type: 'client_credentials' },
        headers: basic(creds.clientId, creds.secret),
      })
    ).status;

  /** The workers that logged a request of `clientId`. */
  const workersServing = (clientId: string) =>
    new Set(
      tessera
        .stdout()
        .split('\n')
        .filter((line) => line.includes('"msg":"request"') && line.includes(`"client_id":"${clientId}"`))
        .map((line) => (JSON.parse(line) as { worker: number }).worker),
    );

  it('starts the workers once prepared: one bootstrap, two listeners', async () => {
    // Ready means one worker answers; the other may still be starting.
    await untilPrinted(tessera, '"msg":"tessera listening"', 2);
    const lines = tessera.stdout().split('\n');
    assert.equal(lines.filter((line) => line.includes('"msg":"tessera listening"')).length, 2);
    assert.equal(lines.filter((line) => line.includes('"msg":"supervising workers"')).length, 1);
    const workers = new Set(
      lines
        .filter((line) => line.includes('"msg":"tessera listening"'))
        .map((line) => (JSON.parse(line) as { worker: number }).worker),
    );
    assert.equal(workers.size, 2, 'two distinct workers');
  });

  it('refuses a rotated, then a disabled client on every worker, though each had remembered it', async () => {
    const root = await tokenFor(tessera.url, admin);
    const created = await api(tessera.url, root, 'POST', '/clients', {
      client_name: 'spread',
      scope: 'api:read',
    });
    const creds: Credentials = {
      clientId: String((created.body.client as { client_id: string }).client_id),
      secret: String(created.body.client_secret),
    };
    for (let i = 0; i < 6; i += 1) assert.equal(await token(creds), 200);
    assert.equal(workersServing(creds.clientId).size, 2, 'both workers served the client');

    const rotated = await api(tessera.url, root, 'POST', `/clients/${creds.clientId}/secret`);
    const fresh = { ...creds, secret: String(rotated.body.client_secret) };
    for (let i = 0; i < 6; i += 1) assert.equal(await token(creds), 401);
    for (let i = 0; i < 6; i += 1) assert.equal(await token(fresh), 200);

    await api(tessera.url, root, 'PATCH', `/clients/${creds.clientId}`, { disabled: true });
    for (let i = 0; i < 6; i += 1) assert.equal(await token(fresh), 401);
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    assert.equal(await tessera.stop(), 0);
    assert.equal(
      tessera
        .stdout()
        .split('\n')
        .filter((line) => line.includes('"msg":"stopped"')).length,
      2,
    );
  });
});
