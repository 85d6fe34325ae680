import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { basic, clientCredentials, introspect, postForm, type Credentials } from '../support/oauth.js';
import { registerMachine, startTessera, type RunningTessera } from '../support/tessera.js';

describe('request logs', () => {
  let tessera: RunningTessera;
  let machine: Credentials;

  before(async () => {
    tessera = await startTessera();
    machine = await registerMachine(tessera, { client_name: 'logged' });
  });
  after(async () => tessera.close());

  it('writes one JSON line per request with a request id, and never a secret or token it saw', async () => {
    const before = tessera.logs.length;
    const wrongSecret = 'wrong-secret-value-that-must-not-be-logged';
    const issued = await clientCredentials(tessera.url, machine);
    const token = String(issued.body.access_token);
    await clientCredentials(tessera.url, { ...machine, secret: wrongSecret });
    await clientCredentials(tessera.url, { ...machine, method: 'post' });
    await introspect(tessera.url, machine, token);
    await postForm(`${tessera.url}/oauth/revoke`, {
      token,
      client_id: machine.clientId,
      client_secret: machine.secret,
    });
    const query = await fetch(
      `${tessera.url}/healthz?client_secret=${machine.secret}&access_token=${token}`,
      {
        headers: {
          cookie: `session=${machine.secret}`,
          'x-api-key': machine.secret,
          ...basic(machine.clientId, wrongSecret),
        },
      },
    );
    assert.equal(query.status, 200);
    await fetch(`${tessera.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${token}` } });

    const lines = tessera.logs.slice(before);
    const requests = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request');
    assert.equal(requests.length, 7);
    for (const line of requests) {
      assert.match(String(line.req_id), /^[0-9a-f-]{36}$/);
      assert.equal(typeof line.status, 'number');
      assert.equal(typeof line.duration_ms, 'number');
    }
    assert.deepEqual(
      requests.map((l) => [l.method, l.path, l.status]),
      [
        ['POST', '/oauth/token', 200],
        ['POST', '/oauth/token', 401],
        // A client_secret_basic client's secret in the body is refused (RFC 7591 section 2).
        ['POST', '/oauth/token', 401],
        ['POST', '/oauth/introspect', 200],
        ['POST', '/oauth/revoke', 401],
        ['GET', '/healthz', 200],
        ['GET', '/oauth/userinfo', 401],
      ],
    );
    assert.equal(requests[0]!.client_id, machine.clientId);

    const everything = tessera.logs.join('\n');
    for (const secret of [
      machine.secret,
      wrongSecret,
      token,
      'test-admin-secret-that-is-long-enough-0123456789',
    ]) {
      assert.ok(!everything.includes(secret), `log output contains ${secret.slice(0, 6)}...`);
    }
  });

  it("writes the request line in pino's shape, escaping what the client chose", async () => {
    await clientCredentials(tessera.url, machine);
    const token = JSON.parse(tessera.logs.at(-1)!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(token), [
      'level',
      'time',
      'service',
      'req_id',
      'method',
      'path',
      'status',
      'duration_ms',
      'client_id',
      'remote',
      'msg',
    ]);
    assert.equal(token.level, 30);
    assert.match(String(token.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(token.service, 'tessera');

    // A backslash and an escaped quote reach the path as sent.
    const { port } = new URL(tessera.url);
    const rawRequest = (line: string) =>
      new Promise<string>((resolve, reject) => {
        let received = '';
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write(
            `${line}\r\nHost: tessera\r\nX-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n`,
          ),
        );
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('end', () => resolve(received));
        socket.on('error', reject);
      });
    assert.match(await rawRequest('GET /no\\such%22path HTTP/1.1'), /^HTTP\/1\.1 404 /);
    const raw = JSON.parse(tessera.logs.at(-1)!) as Record<string, unknown>;
    assert.equal(raw.path, '/no\\such%22path');
    assert.equal(raw.status, 404);
    assert.equal('client_id' in raw, false);
    // The caller's own address: a forwarded-for header is not trusted...
    assert.match(String(raw.remote), /^(::ffff:)?127\.0\.0\.1$/);

    // ...unless the application is set to trust its proxy.
    tessera.container.app.proxy = true;
    try {
      await rawRequest('GET /behind-proxy HTTP/1.1');
    } finally {
      tessera.container.app.proxy = false;
    }
    const proxied = JSON.parse(tessera.logs.at(-1)!) as Record<string, unknown>;
    assert.deepEqual([proxied.path, proxied.remote], ['/behind-proxy', '203.0.113.9']);
  });

  it('echoes a sane x-request-id and replaces one that is not', async () => {
    const ok = await fetch(`${tessera.url}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
    assert.equal(ok.headers.get('x-request-id'), 'trace-123');
    const bad = await fetch(`${tessera.url}/healthz`, {
      headers: { 'x-request-id': 'has spaces and "quotes"' },
    });
    assert.match(bad.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
    // On oidc-provider's answers too, errors included.
    const refused = await fetch(`${tessera.url}/oauth/token`, {
      method: 'POST',
      headers: { 'x-request-id': 'trace-456', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=nobody&client_secret=wrong',
    });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('x-request-id'), 'trace-456');
    const metadata = await fetch(`${tessera.url}/.well-known/openid-configuration`);
    assert.equal(metadata.status, 200);
    assert.match(metadata.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
  });
});
