import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { clientCredentials, type Credentials } from '../support/oauth.js';
import { registerMachine, startTessera, type RunningTessera } from '../support/tessera.js';

describe('client secret checks: verified once, bounded under load', () => {
  let tessera: RunningTessera;
  const stats = () => tessera.container.secrets.stats();

  before(async () => {
    tessera = await startTessera();
  });
  after(async () => tessera.close());

  it('runs argon2 for the first presentation of a secret only, and never remembers a wrong one', async () => {
    const creds = await registerMachine(tessera, { client_name: 'cached once' });
    const wrong: Credentials = { ...creds, secret: `${creds.secret.slice(0, -2)}xx` };

    const start = stats();
    for (let i = 0; i < 3; i += 1) {
      const res = await clientCredentials(tessera.url, wrong);
      assert.equal(res.status, 401);
      assert.equal(res.body.error, 'invalid_client');
    }
    const afterWrong = stats();
    assert.equal(afterWrong.argon2 - start.argon2, 3, 'each wrong presentation is checked again');
    assert.equal(afterWrong.cacheHits, start.cacheHits);

    for (let i = 0; i < 3; i += 1) assert.equal((await clientCredentials(tessera.url, creds)).status, 200);
    const afterRight = stats();
    assert.equal(afterRight.argon2 - afterWrong.argon2, 1, 'one argon2 check for the right secret');
    assert.equal(afterRight.cacheHits - afterWrong.cacheHits, 2);

    // Still refused after the right one was remembered.
    assert.equal((await clientCredentials(tessera.url, wrong)).status, 401);
    // The same secret under another client id is not the remembered credential.
    const other = await registerMachine(tessera, { client_name: 'cached other' });
    assert.equal((await clientCredentials(tessera.url, { ...other, secret: creds.secret })).status, 401);
  });

  it('refuses a remembered secret once it is rotated, disabled or deleted', async () => {
    const root = await tokenFor(tessera.url);
    const creds = await registerMachine(tessera, { client_name: 'cached then rotated' });
    assert.equal((await clientCredentials(tessera.url, creds)).status, 200);
    assert.equal((await clientCredentials(tessera.url, creds)).status, 200);

    const rotated = await api(tessera, root, 'POST', `/clients/${creds.clientId}/secret`);
    assert.equal((await clientCredentials(tessera.url, creds)).status, 401);
    const fresh = { ...creds, secret: String(rotated.body.client_secret) };
    assert.equal((await clientCredentials(tessera.url, fresh)).status, 200);
    assert.equal((await clientCredentials(tessera.url, fresh)).status, 200);

    await api(tessera, root, 'PATCH', `/clients/${creds.clientId}`, { disabled: true });
    assert.equal((await clientCredentials(tessera.url, fresh)).status, 401);
    await api(tessera, root, 'PATCH', `/clients/${creds.clientId}`, { disabled: false });
    assert.equal((await clientCredentials(tessera.url, fresh)).status, 200);
    await api(tessera, root, 'DELETE', `/clients/${creds.clientId}`);
    assert.equal((await clientCredentials(tessera.url, fresh)).status, 401);
  });

  it('keeps argon2 to two checks at a time under a burst of wrong secrets, while a known client gets tokens', async () => {
    const victims = await Promise.all(
      [1, 2, 3, 4].map((i) => registerMachine(tessera, { client_name: `burst victim ${i}` })),
    );
    const steady = await registerMachine(tessera, { client_name: 'steady worker' });
    assert.equal((await clientCredentials(tessera.url, steady)).status, 200, 'remembered before the burst');

    const before = stats();
    let burstDone = false;
    const burst = Promise.all(
      victims.flatMap((victim) =>
        Array.from({ length: 25 }, (_, i) =>
          // With the victim's hint, as someone who has seen it would send them: each is hashed.
          clientCredentials(tessera.url, {
            ...victim,
            secret: `${victim.secret.slice(0, 4)}wrong-secret-${i}-${'x'.repeat(30)}`,
          }),
        ),
      ),
    ).finally(() => {
      burstDone = true;
    });

    const steadyResults: { status: number; duringBurst: boolean }[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await clientCredentials(tessera.url, steady);
      steadyResults.push({ status: res.status, duringBurst: !burstDone });
    }
    const results = await burst;

    assert.deepEqual(
      steadyResults.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    assert.ok(
      steadyResults[0]!.duringBurst,
      'the known client was answered while the burst was still running',
    );
    const after = stats();
    assert.ok(after.peakConcurrent <= 2, `peak ${after.peakConcurrent} argon2 checks at once`);
    const statuses = results.map((r) => r.status);
    assert.ok(statuses.every((s) => s === 401 || s === 503));
    // Checks beyond a victim's share (8 running or waiting) were turned away at once.
    assert.equal(statuses.filter((s) => s === 503).length, after.refused - before.refused);
    assert.equal(statuses.filter((s) => s === 401).length, after.argon2 - before.argon2);
    for (const refused of results.filter((r) => r.status === 503)) {
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.deepEqual(refused.body, {
        error: 'temporarily_unavailable',
        error_description: 'too many client authentications in progress; retry shortly',
      });
    }
  });
});
