import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { basic } from '../support/oauth.js';
import { exited, spawnTessera } from '../support/process.js';
import { tempDir } from '../support/tessera.js';

describe('graceful stop', () => {
  it('on SIGTERM finishes the request in flight, stops accepting, and exits 0', async () => {
    const data = tempDir();
    const secret = 'shutdown-test-admin-secret-0123456789abcdef';
    const proc = await spawnTessera({ TESSERA_DATA_DIR: data.dir, TESSERA_ADMIN_CLIENT_SECRET: secret });
    try {
      const body = 'grant_type=client_credentials&scope=admin';
      const url = new URL(`${proc.url}/oauth/token`);
      const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'content-length': Buffer.byteLength(body),
              ...basic('tessera-admin', secret),
            },
          },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        // Half the body now, the rest after SIGTERM: the request is in flight when the signal lands.
        req.write(body.slice(0, 10));
        setTimeout(() => {
          proc.child.kill('SIGTERM');
          setTimeout(() => req.end(body.slice(10)), 300);
        }, 200);
      });
      const done = await response;
      assert.equal(done.status, 200, done.text);
      assert.equal((JSON.parse(done.text) as { scope: string }).scope, 'admin');
      assert.equal(await exited(proc.child), 0);
      // Every line is written as it is logged; none is lost at exit.
      const lines = proc
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg: string; path?: string; status?: number });
      assert.deepEqual(
        lines
          .filter((line) => line.msg === 'request' && line.path === '/oauth/token')
          .map((line) => line.status),
        [200],
      );
      assert.equal(lines.at(-1)?.msg, 'stopped');
      await sleep(50);
      await assert.rejects(fetch(`${proc.url}/healthz`), 'no longer accepting connections');
    } finally {
      proc.child.kill('SIGKILL');
      data.remove();
    }
  });

  it('drains kept-alive connections: answers in flight close their connection, and the process exits', async () => {
    const data = tempDir();
    const proc = await spawnTessera({ TESSERA_DATA_DIR: data.dir });
    const url = new URL(proc.url);
    /** One request on `agent`; resolves with its status, its Connection header and its socket. */
    const send = (agent: Agent, path: string, write?: (req: ReturnType<typeof request>) => void) =>
      new Promise<{ status: number; connection: string | undefined; closed: Promise<void> }>(
        (resolve, reject) => {
          const req = request(
            { host: url.hostname, port: url.port, path, method: write ? 'POST' : 'GET', agent },
            (res) => {
              const socket = res.socket;
              const closed = new Promise<void>((done) => socket.once('close', () => done()));
              res.resume();
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, closed }),
              );
            },
          );
          req.on('error', reject);
          if (write) write(req);
          else req.end();
        },
      );
    try {
      const slowAgent = new Agent({ keepAlive: true, maxSockets: 1 });
      const busyAgent = new Agent({ keepAlive: true, maxSockets: 1 });
      const warm = await send(slowAgent, '/healthz');
      assert.equal(warm.connection, 'keep-alive');
      assert.equal((await send(busyAgent, '/healthz')).connection, 'keep-alive');

      // One client holds a request open and never finishes it: the grace period cuts it.
      let started!: () => void;
      const held = new Promise<void>((resolve) => (started = resolve));
      const stuck = send(new Agent({ keepAlive: true }), '/oauth/token', (req) => {
        req.setHeader('content-type', 'application/x-www-form-urlencoded');
        req.setHeader('content-length', 1000);
        req.setHeader('expect', '100-continue');
        req.once('continue', () => {
          req.write('grant_type=');
          started();
        });
        req.flushHeaders();
      }).catch((error: NodeJS.ErrnoException) => error.code);
      await held;

      // A request in flight on the kept-alive connection when the signal lands.
      const body = 'grant_type=client_credentials';
      // `Expect: 100-continue` tells when the server has the request: the signal lands then.
      const slow = send(slowAgent, '/oauth/token', (req) => {
        req.setHeader('content-type', 'application/x-www-form-urlencoded');
        req.setHeader('content-length', Buffer.byteLength(body));
        req.setHeader('expect', '100-continue');
        req.once('continue', () => {
          req.write(body.slice(0, 5));
          proc.child.kill('SIGTERM');
          setTimeout(() => req.end(body.slice(5)), 300);
        });
        req.flushHeaders();
      });
      // Meanwhile another client keeps sending on its kept-alive connection.
      const answers: (string | undefined)[] = [];
      const busy = (async () => {
        for (;;) {
          try {
            const answer = await send(busyAgent, '/healthz');
            answers.push(answer.connection);
            if (answer.connection === 'close') await answer.closed;
          } catch {
            return; // refused: the process no longer accepts connections
          }
        }
      })();

      const answered = await slow;
      assert.equal(answered.status, 401, 'answered (no client authentication)');
      assert.equal(answered.connection, 'close');
      await answered.closed;
      assert.equal(await exited(proc.child), 0);
      assert.equal(await stuck, 'ECONNRESET');
      await busy;
      // The busy client was refused in the end; once told to close, it was never kept alive again.
      const closing = answers.indexOf('close');
      if (closing >= 0) assert.ok(answers.slice(closing).every((c) => c === 'close'));
      slowAgent.destroy();
      busyAgent.destroy();
    } finally {
      proc.child.kill('SIGKILL');
      data.remove();
    }
  });
});
