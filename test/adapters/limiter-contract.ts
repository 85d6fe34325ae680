import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Limiter, LimitRule } from '../../src/stores/limiter.js';

/** Two limiters on one store, as two processes would have. */
export interface LimiterHarness {
  limiters: [Limiter, Limiter];
  dispose(): Promise<void>;
}

const rule = (points: number, windowSeconds = 300): LimitRule => ({
  name: `test-${randomUUID().slice(0, 8)}`,
  points,
  windowSeconds,
});

/** The behaviour every limiter must have, run against each backend. */
export function limiterContract(backend: string, open: () => Promise<LimiterHarness>): void {
  describe(`limiter contract: ${backend}`, () => {
    let harness: LimiterHarness;
    before(async () => {
      harness = await open();
    });
    after(async () => harness.dispose());

    it('counts hits from every process against one key, and limits at the rule points', async () => {
      const [a, b] = harness.limiters;
      const limit = rule(3);
      assert.deepEqual(await a.check(limit, 'k'), { hits: 0, limited: false, retryAfterSeconds: 0 });
      await Promise.all([a.hit(limit, 'k'), b.hit(limit, 'k')]);
      const second = await a.check(limit, 'k');
      assert.equal(second.hits, 2);
      assert.equal(second.limited, false);
      const third = await b.hit(limit, 'k');
      assert.equal(third.hits, 3);
      assert.equal(third.limited, true);
      assert.ok(third.retryAfterSeconds > 0 && third.retryAfterSeconds <= 300, `${third.retryAfterSeconds}`);
      assert.deepEqual(await a.check(limit, 'k'), await b.check(limit, 'k'));
    });

    it('keeps keys and rules apart, and forgets a key on reset', async () => {
      const [a, b] = harness.limiters;
      const one = rule(2);
      const other = rule(2);
      await a.hit(one, 'x');
      await a.hit(one, 'x');
      assert.equal((await a.check(one, 'x')).limited, true);
      assert.equal((await a.check(one, 'y')).hits, 0);
      assert.equal((await a.check(other, 'x')).hits, 0);
      await b.reset(one, 'x');
      assert.deepEqual(await a.check(one, 'x'), { hits: 0, limited: false, retryAfterSeconds: 0 });
    });

    it('takes back one hit on reward', async () => {
      const [a, b] = harness.limiters;
      const limit = rule(2);
      await a.hit(limit, 'r');
      await a.hit(limit, 'r');
      assert.equal((await b.check(limit, 'r')).limited, true);
      await b.reward(limit, 'r');
      const after = await a.check(limit, 'r');
      assert.equal(after.hits, 1);
      assert.equal(after.limited, false);
    });

    it('reads a count taken back to zero as no count at all', async () => {
      const [a, b] = harness.limiters;
      const limit = rule(2);
      await a.hit(limit, 'zero');
      await b.reward(limit, 'zero');
      assert.deepEqual(await a.check(limit, 'zero'), { hits: 0, limited: false, retryAfterSeconds: 0 });
      const again = await b.hit(limit, 'zero');
      assert.equal(again.hits, 1);
    });

    it('checks without counting', async () => {
      const [a] = harness.limiters;
      const limit = rule(1);
      for (let i = 0; i < 3; i += 1) assert.equal((await a.check(limit, 'z')).hits, 0);
    });
  });
}
