import assert from 'node:assert/strict';
import { request } from 'node:http';
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
});
