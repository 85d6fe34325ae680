import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { ADMIN, clientCredentials, introspect } from '../support/oauth.js';
import { spawnTessera, untilPrinted, type TesseraProcess } from '../support/process.js';
import { startTessera, tempDir, type RunningTessera } from '../support/tessera.js';

/** The samples of a Prometheus text scrape, as `name{labels}` → value. */
async function scrape(base: string): Promise<Map<string, number>> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe('GET /metrics', () => {
  let tessera: RunningTessera;
  let root: string;

  before(async () => {
    tessera = await startTessera({ env: { TESSERA_CLIENT_AUTH_MAX_FAILURES: '2' } });
    root = await tokenFor(tessera.url);
  });
  after(async () => tessera.close());

  it('counts requests by route pattern, tokens, auth failures by reason and secret checks, with no id in any label', async () => {
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'metered',
      scope: 'api:read',
    });
    const client = credentialsOf(created);
    const before = await scrape(tessera.url);
    const value = (samples: Map<string, number>, key: string) => samples.get(key) ?? 0;

    const issued = await clientCredentials(tessera.url, client);
    assert.equal(issued.status, 200);
    assert.equal((await clientCredentials(tessera.url, client)).status, 200);
    assert.equal((await clientCredentials(tessera.url, { ...client, secret: 'wrong' })).status, 401);
    assert.equal((await clientCredentials(tessera.url, { ...client, secret: 'wrong' })).status, 401);
    assert.equal((await clientCredentials(tessera.url, { ...client, secret: 'wrong' })).status, 429);
    assert.equal((await clientCredentials(tessera.url, { clientId: 'ghost', secret: 'x' })).status, 401);
    await api(tessera, root, 'PATCH', `/clients/${client.clientId}`, { disabled: true });
    assert.equal(
      (await clientCredentials(tessera.url, { ...client, clientId: client.clientId })).status,
      429,
    );
    const disabled = credentialsOf(await api(tessera, root, 'POST', '/clients', { client_name: 'off' }));
    await api(tessera, root, 'PATCH', `/clients/${disabled.clientId}`, { disabled: true });
    assert.equal((await clientCredentials(tessera.url, disabled)).status, 401);
    await introspect(tessera.url, ADMIN, String(issued.body.access_token));
    assert.equal((await api(tessera, root, 'GET', `/clients/${client.clientId}`)).status, 200);
    assert.equal((await fetch(`${tessera.url}/no/such/${client.clientId}`)).status, 404);

    const after = await scrape(tessera.url);
    const delta = (key: string) => value(after, key) - value(before, key);
    assert.equal(delta('tessera_http_requests_total{route="/oauth/token",method="POST",status="200"}'), 2);
    assert.equal(delta('tessera_http_requests_total{route="/oauth/token",method="POST",status="401"}'), 4);
    assert.equal(delta('tessera_http_requests_total{route="/oauth/token",method="POST",status="429"}'), 2);
    assert.equal(
      delta('tessera_http_requests_total{route="/admin/api/clients/:id",method="GET",status="200"}'),
      1,
    );
    assert.equal(
      delta('tessera_http_requests_total{route="/admin/api/clients/:id",method="PATCH",status="200"}'),
      2,
    );
    assert.equal(delta('tessera_http_requests_total{route="unmatched",method="GET",status="404"}'), 1);
    assert.equal(
      delta('tessera_http_request_duration_seconds_count{route="/oauth/introspect",method="POST"}'),
      1,
    );
    assert.equal(delta('tessera_tokens_issued_total{grant_type="client_credentials"}'), 2);
    assert.equal(delta('tessera_client_auth_failures_total{reason="bad_secret"}'), 2);
    assert.equal(delta('tessera_client_auth_failures_total{reason="throttled"}'), 2);
    assert.equal(delta('tessera_client_auth_failures_total{reason="unknown_client"}'), 1);
    assert.equal(delta('tessera_client_auth_failures_total{reason="disabled"}'), 1);
    assert.equal(delta('tessera_secret_checks_total{result="verified"}'), 1);
    // The second token request and the introspection's caller.
    assert.equal(delta('tessera_secret_checks_total{result="cached"}'), 2);
    assert.equal(delta('tessera_secret_checks_total{result="failed"}'), 2);
    assert.ok(
      delta(
        'tessera_store_operation_duration_seconds_count{store="token_store",operation="ClientCredentials.upsert"}',
      ) >= 2,
    );
    assert.ok(
      value(
        after,
        'tessera_store_operation_duration_seconds_count{store="client_store",operation="getClient"}',
      ) > 0,
    );
    assert.equal(value(after, 'tessera_store_up{store="client_store"}'), 1);
    assert.equal(value(after, 'tessera_store_up{store="token_store"}'), 1);
    assert.ok(value(after, 'process_cpu_user_seconds_total') > 0, 'prom-client default metrics');
    assert.ok(after.has('nodejs_heap_size_total_bytes'));

    const text = [...after.keys()].join('\n');
    for (const secretish of [
      client.clientId,
      disabled.clientId,
      'ghost',
      '127.0.0.1',
      String(issued.body.access_token),
      root,
    ]) {
      assert.ok(!text.includes(secretish), `no label holds ${secretish}`);
    }
  });
});

describe('GET /metrics with TESSERA_WORKERS', () => {
  const data = tempDir();
  const secret = 'metrics-workers-admin-secret-0123456789';
  let proc: TesseraProcess;

  before(async () => {
    proc = await spawnTessera({
      TESSERA_DATA_DIR: data.dir,
      TESSERA_WORKERS: '2',
      TESSERA_ADMIN_CLIENT_SECRET: secret,
    });
    // The primary's scrape asks every worker: ready once both listen, not when the first does.
    await untilPrinted(proc, '"msg":"tessera listening"', 2);
  });
  after(async () => {
    await proc?.stop();
    data.remove();
  });

  it('covers every worker in one scrape', async () => {
    const before =
      (await scrape(proc.url)).get('tessera_tokens_issued_total{grant_type="client_credentials"}') ?? 0;
    // Each request on a new connection: the workers take the connections in turn.
    for (let i = 0; i < 10; i += 1) {
      const res = await fetch(`${proc.url}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`tessera-admin:${secret}`).toString('base64')}`,
          connection: 'close',
        },
        body: 'grant_type=client_credentials',
      });
      assert.equal(res.status, 200);
    }
    const after = await scrape(proc.url);
    assert.equal(
      (after.get('tessera_tokens_issued_total{grant_type="client_credentials"}') ?? 0) - before,
      10,
    );
    assert.equal(after.get('tessera_store_up{store="token_store"}'), 1);
  });
});
