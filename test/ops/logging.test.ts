import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  ATOMIC_WRITE,
  createLogger,
  isoTime,
  linesPerTurn,
  QUOTED_MEMO,
  QUOTED_MEMO_LENGTH,
  requestLineWriter,
  type FlushableDestination,
  type RequestLine,
} from '../../src/logger.js';
import { basic, clientCredentials, introspect, postForm, type Credentials } from '../support/oauth.js';
import { registerMachine, startTessera, type RunningTessera } from '../support/tessera.js';

/** A destination that keeps what is written to it, one entry per write. */
function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { lines, sink };
}

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
        ['POST', '/oauth/token', 200],
        ['POST', '/oauth/introspect', 200],
        ['POST', '/oauth/revoke', 200],
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

  it('writes exactly what pino would, and nothing below the level', () => {
    const line: RequestLine = {
      req_id: 'trace-1',
      method: 'POST',
      path: '/p\u00e9"\\\n',
      status: 200,
      duration_ms: 1.25,
      client_id: 'c"1',
      remote: '::1',
    };
    const ours = capture();
    const theirs = capture();
    requestLineWriter(createLogger('info', ours.sink))(line);
    createLogger('info', theirs.sink).info(line, 'request');
    const withoutTime = (text: string) => {
      const { time, ...rest } = JSON.parse(text) as Record<string, unknown>;
      assert.equal(typeof time, 'string');
      return rest;
    };
    assert.equal(ours.lines.length, 1);
    assert.deepEqual(withoutTime(ours.lines[0]!), withoutTime(theirs.lines[0]!));

    const quiet = capture();
    requestLineWriter(createLogger('warn', quiet.sink))(line);
    assert.deepEqual(quiet.lines, []);
  });

  it('quotes repeated and ever-new values alike, past the size of its memo of quoted strings', () => {
    const { lines, sink } = capture();
    const write = requestLineWriter(createLogger('info', sink));
    const paths = Array.from({ length: QUOTED_MEMO * 2 + 7 }, (_, i) =>
      i % 10 === 0 ? `/long/${i}"${'\\\u00e9'.repeat(QUOTED_MEMO_LENGTH)}` : `/p/${i}"\\\u00e9`,
    );
    const sent = [...paths, ...paths.slice(0, 50), ...paths.slice(-50)].map((path, i) => ({
      req_id: `r${i}`,
      method: 'GET',
      path,
      status: 404,
      duration_ms: i / 1000,
      client_id: i % 3 === 0 ? undefined : `c"${i % 5}`,
      remote: i % 2 ? '::1' : '10.0.0.\u00e9',
    }));
    for (const line of sent) write(line);
    assert.equal(lines.length, sent.length);
    lines.forEach((text, i) => {
      const { path, client_id, remote, req_id } = JSON.parse(text) as Record<string, unknown>;
      assert.deepEqual(
        { path, client_id, remote, req_id },
        {
          path: sent[i]!.path,
          client_id: sent[i]!.client_id,
          remote: sent[i]!.remote,
          req_id: sent[i]!.req_id,
        },
      );
    });
  });

  it("hands a turn's lines over in one write, in order, and what is pending at once on flush", async () => {
    const writes: string[] = [];
    const calls: string[] = [];
    const target: FlushableDestination = {
      write: (text: string) => void writes.push(text),
      flush: (callback) => {
        calls.push('flush');
        callback?.();
      },
      flushSync: () => void calls.push('flushSync'),
    };
    const lines = linesPerTurn(target);
    lines.write('{"n":1}\n');
    lines.write('{"n":2}\n');
    lines.write('{"n":3}\n');
    assert.deepEqual(writes, []);
    await nextTurn();
    assert.deepEqual(writes, ['{"n":1}\n{"n":2}\n{"n":3}\n']);
    await nextTurn();
    assert.equal(writes.length, 1, 'nothing written twice');

    lines.write('{"n":4}\n');
    lines.flushSync();
    assert.deepEqual(writes.slice(1), ['{"n":4}\n']);
    lines.write('{"n":5}\n');
    let flushed = false;
    lines.flush(() => (flushed = true));
    assert.deepEqual(writes.slice(2), ['{"n":5}\n']);
    assert.equal(flushed, true);
    assert.deepEqual(calls, ['flushSync', 'flush']);
    await nextTurn();
    assert.equal(writes.length, 3, 'a flushed line is not written again');
  });

  it('splits a busy turn into writes of whole lines that a shared pipe never interleaves', async () => {
    const writes: string[] = [];
    const lines = linesPerTurn({
      write: (text: string) => void writes.push(text),
      flush() {},
      flushSync() {},
    });
    const written: string[] = [];
    for (let n = 0; n < 200; n += 1) {
      // Some lines are mostly multi-byte, so characters and bytes differ.
      const line = `${JSON.stringify({ n, path: n % 3 ? 'x'.repeat(n) : 'é✓'.repeat(n) })}\n`;
      written.push(line);
      lines.write(line);
    }
    const long = `${JSON.stringify({ path: 'y'.repeat(ATOMIC_WRITE * 2) })}\n`;
    written.push(long);
    lines.write(long);
    await nextTurn();
    assert.equal(writes.join(''), written.join(''), 'every line, in order, once');
    assert.ok(writes.length > 2 && writes.length < 100, `${writes.length} writes`);
    for (const text of writes) {
      assert.ok(text.endsWith('\n'), 'whole lines only');
      assert.ok(Buffer.byteLength(text) <= ATOMIC_WRITE || text === long, 'at most one pipe buffer');
    }
  });

  it("formats the time as pino's isoTime does", (t) => {
    for (const at of [0, 7, 45, 999, 1000, 1_700_000_000_123, Date.now()]) {
      t.mock.method(Date, 'now', () => at);
      assert.equal(isoTime(), `,"time":"${new Date(at).toISOString()}"`);
      t.mock.restoreAll();
    }
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
