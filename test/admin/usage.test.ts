import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { clientCredentials, type Credentials } from '../support/oauth.js';
import { twoNodesOnRedis } from '../support/redis.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

interface Usage {
  hours: { start: string; tokens_issued: number; auth_failures: number }[];
}

const HOUR = 3_600_000;
const sum = (usage: Usage, field: 'tokens_issued' | 'auth_failures') =>
  usage.hours.reduce((total, hour) => total + hour[field], 0);

/** Exactly `n` consecutive clock hours, the last one the current hour. */
function assertHours(usage: Usage, n: number, readAt: number) {
  assert.equal(usage.hours.length, n);
  const starts = usage.hours.map((h) => Date.parse(h.start));
  starts.forEach((start, i) => {
    assert.equal(start % HOUR, 0, 'an hour starts on the hour');
    if (i > 0) assert.equal(start - starts[i - 1]!, HOUR, 'consecutive hours, oldest first');
  });
  const current = Math.floor(readAt / HOUR) * HOUR;
  assert.ok(
    starts.at(-1) === current || starts.at(-1) === current + HOUR,
    'the last entry is the current hour',
  );
}

describe('per-client usage', () => {
  let tessera: RunningTessera;
  let root: string;
  let client: Credentials;

  before(async () => {
    tessera = await startTessera();
    root = await tokenFor(tessera.url);
    client = credentialsOf(
      await api(tessera, root, 'POST', '/clients', { client_name: 'counted', scope: 'api:read' }),
    );
  });
  after(async () => tessera.close());

  it('counts tokens issued and failed authentications per hour, zeros included, before and after they are written', async () => {
    for (let i = 0; i < 3; i += 1) assert.equal((await clientCredentials(tessera.url, client)).status, 200);
    for (let i = 0; i < 2; i += 1) {
      assert.equal((await clientCredentials(tessera.url, { ...client, secret: 'wrong' })).status, 401);
    }
    const readAt = Date.now();
    const unwritten = await api(tessera, root, 'GET', `/clients/${client.clientId}/usage?hours=5`);
    assert.equal(unwritten.status, 200);
    const usage = unwritten.body as unknown as Usage;
    assertHours(usage, 5, readAt);
    assert.deepEqual([sum(usage, 'tokens_issued'), sum(usage, 'auth_failures')], [3, 2]);
    assert.ok(usage.hours.slice(0, 3).every((h) => h.tokens_issued === 0 && h.auth_failures === 0));

    await tessera.container.flushUsage();
    const written = (await api(tessera, root, 'GET', `/clients/${client.clientId}/usage?hours=5`))
      .body as unknown as Usage;
    assert.deepEqual(
      [sum(written, 'tokens_issued'), sum(written, 'auth_failures')],
      [3, 2],
      'written once, counted once',
    );

    const day = (await api(tessera, root, 'GET', `/clients/${client.clientId}/usage`))
      .body as unknown as Usage;
    assertHours(day, 24, Date.now());
    const week = (await api(tessera, root, 'GET', `/clients/${client.clientId}/usage?hours=168`))
      .body as unknown as Usage;
    assertHours(week, 168, Date.now());
    assert.equal(sum(week, 'tokens_issued'), 3);
  });

  it("refuses a bad hours value, and another account's client", async () => {
    for (const hours of ['0', '169', 'ten', '-1', '1.5', '']) {
      const res = await api(tessera, root, 'GET', `/clients/${client.clientId}/usage?hours=${hours}`);
      assert.equal(res.status, 400, hours);
      assert.deepEqual(res.body, {
        error: 'invalid_request',
        error_description: 'hours must be a whole number between 1 and 168',
      });
    }
    const other = await api(tessera, root, 'POST', '/accounts', { name: 'Elsewhere' });
    const admin = other.body.admin_client as { client_id: string; client_secret: string };
    const tenant = await tokenFor(tessera.url, { clientId: admin.client_id, secret: admin.client_secret });
    assert.equal((await api(tessera, tenant, 'GET', `/clients/${client.clientId}/usage`)).status, 404);
  });
});

describe('per-client usage across nodes', () => {
  const admin: Credentials = { clientId: 'tessera-admin', secret: 'usage-nodes-admin-secret-0123456789abcd' };
  const nodes = twoNodesOnRedis(11, { TESSERA_ADMIN_CLIENT_SECRET: admin.secret });

  it('sums what every node counted', async () => {
    const { one, two } = nodes;
    const root = await tokenFor(two.url, admin);
    const client = credentialsOf(await api(two.url, root, 'POST', '/clients', { client_name: 'everywhere' }));
    for (let i = 0; i < 4; i += 1) assert.equal((await clientCredentials(one.url, client)).status, 200);
    for (let i = 0; i < 2; i += 1) assert.equal((await clientCredentials(two.url, client)).status, 200);
    // Node one writes its counts as it stops; node two adds its own, not yet written.
    await one.stop();
    const usage = (await api(two.url, root, 'GET', `/clients/${client.clientId}/usage?hours=2`))
      .body as unknown as Usage;
    assert.equal(sum(usage, 'tokens_issued'), 6);
  });
});
