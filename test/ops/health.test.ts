import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTessera } from '../support/tessera.js';

describe('health and readiness', () => {
  it('answers /healthz and /readyz while the stores answer, and /readyz 503 naming the store that does not', async () => {
    const tessera = await startTessera();
    try {
      const health = await fetch(`${tessera.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await fetch(`${tessera.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), {
        status: 'ready',
        stores: { client_store: 'up', token_store: 'up' },
      });

      // The embedded stores share one file: closing it takes both down.
      await tessera.container.tokenStore.close();
      const down = await fetch(`${tessera.url}/readyz`);
      assert.equal(down.status, 503);
      assert.deepEqual(await down.json(), {
        status: 'unavailable',
        stores: { client_store: 'down', token_store: 'down' },
        down: ['client_store', 'token_store'],
      });
      assert.equal((await fetch(`${tessera.url}/healthz`)).status, 200, 'the process itself still runs');
    } finally {
      await tessera.close();
    }
  });
});
