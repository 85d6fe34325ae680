import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { CacheMarks } from '../../src/stores/cache-marks.js';

/** Two handles on one store, as two processes would have. */
export interface CacheMarksHarness {
  marks: [CacheMarks, CacheMarks];
  dispose(): Promise<void>;
}

/** The behaviour every cache-marks store must have, run against each backend. */
export function cacheMarksContract(backend: string, open: () => Promise<CacheMarksHarness>): void {
  describe(`cache marks contract: ${backend}`, () => {
    let harness: CacheMarksHarness;
    before(async () => {
      harness = await open();
    });
    after(async () => harness.dispose());

    it('moves a mark to a fresh value on every bump, independently of other marks', async () => {
      const [marks] = harness.marks;
      const name = `account:${randomUUID()}`;
      const other = `account:${randomUUID()}`;
      assert.equal(await marks.read(name), '');
      await marks.bump(name);
      const first = await marks.read(name);
      assert.notEqual(first, '');
      assert.equal(await marks.read(name), first, 'reading does not move it');
      await marks.bump(name);
      const second = await marks.read(name);
      assert.notEqual(second, first);
      assert.equal(await marks.read(other), '');
    });

    it('shows a move on one handle to the other at once', async () => {
      const [a, b] = harness.marks;
      const name = `account:${randomUUID()}`;
      await a.bump(name);
      assert.equal(await b.read(name), await a.read(name));
      const before = await b.read(name);
      await b.bump(name);
      assert.notEqual(await a.read(name), before);
      assert.equal(await a.read(name), await b.read(name));
    });
  });
}
