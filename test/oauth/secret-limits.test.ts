import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSecretChecker, SecretChecksBusyError } from '../../src/crypto/secret-checker.js';

/** A hash check that finishes only when the test says so. */
function controlledChecks() {
  const pending: ((ok: boolean) => void)[] = [];
  return {
    verify: () => new Promise<boolean>((resolve) => pending.push(resolve)),
    /** Settles the oldest running check. */
    finish(ok = false) {
      const next = pending.shift();
      assert.ok(next, 'a check is running');
      next(ok);
    },
    running: () => pending.length,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('secret check limits', () => {
  it('runs at most maxConcurrent checks, queues the rest in order, and hands each freed slot on', async () => {
    const checks = controlledChecks();
    const checker = createSecretChecker({
      maxConcurrent: 2,
      maxQueued: 10,
      maxPerSubject: 10,
      verify: checks.verify,
    });
    const results = Array.from({ length: 5 }, (_, i) => checker.checkClientSecret(`c${i}`, 'h', 'wrong'));
    await tick();
    assert.equal(checks.running(), 2);
    checks.finish();
    await tick();
    assert.equal(checks.running(), 2, 'the freed slot went to the next in line');
    while (checks.running() > 0) {
      checks.finish();
      await tick();
    }
    assert.deepEqual(await Promise.all(results), [false, false, false, false, false]);
    assert.equal(checker.stats().peakConcurrent, 2);
    assert.equal(checker.stats().argon2, 5);
  });

  it('turns away checks beyond a subject share or a full queue, without touching others', async () => {
    const checks = controlledChecks();
    const checker = createSecretChecker({
      maxConcurrent: 1,
      maxQueued: 3,
      maxPerSubject: 2,
      verify: checks.verify,
    });
    const flood = [1, 2].map((i) => checker.checkClientSecret('victim', 'h', `wrong-${i}`));
    await assert.rejects(
      async () => checker.checkClientSecret('victim', 'h', 'wrong-3'),
      SecretChecksBusyError,
    );
    const others = ['a', 'b'].map((id) => checker.checkClientSecret(id, 'h', 'wrong'));
    // One running, three waiting: the queue is full for everyone now.
    await assert.rejects(async () => checker.checkClientSecret('c', 'h', 'wrong'), SecretChecksBusyError);
    assert.equal(checker.stats().refused, 2);
    for (let i = 0; i < 4; i += 1) {
      await tick();
      checks.finish();
    }
    assert.deepEqual(await Promise.all([...flood, ...others]), [false, false, false, false]);
    // With the queue drained, the victim is served again.
    const again = checker.checkClientSecret('victim', 'h', 'right');
    await tick();
    checks.finish(true);
    assert.equal(await again, true);
  });

  it('answers the same presentation arriving many times at once with one check', async () => {
    const checks = controlledChecks();
    const checker = createSecretChecker({ maxPerSubject: 2, verify: checks.verify });
    const burst = Array.from({ length: 20 }, () => checker.checkClientSecret('c', 'hash', 'right'));
    await tick();
    assert.equal(checks.running(), 1);
    checks.finish(true);
    assert.deepEqual(await Promise.all(burst), Array(20).fill(true));
    assert.equal(checker.stats().argon2, 1);
    assert.equal(checker.stats().refused, 0, 'waiting for a running check takes no share');
  });

  it('remembers only verified secrets, bound to the hash they verified against', async () => {
    const checks = controlledChecks();
    const checker = createSecretChecker({ verify: checks.verify });
    const first = checker.checkClientSecret('c', 'hash-1', 's3cret');
    await tick();
    checks.finish(true);
    assert.equal(await first, true);
    // Verified already: answered from the cache, no second check.
    assert.equal(await checker.checkClientSecret('c', 'hash-1', 's3cret'), true);
    assert.equal(checker.stats().argon2, 1);

    // A new hash (rotation) sends the same secret back to the real check.
    const afterRotation = checker.checkClientSecret('c', 'hash-2', 's3cret');
    await tick();
    assert.equal(checks.running(), 1);
    checks.finish(false);
    assert.equal(await afterRotation, false);

    // Passwords are never remembered.
    for (let i = 0; i < 2; i += 1) {
      const password = checker.checkPassword('u', 'hash-p', 'pw');
      await tick();
      checks.finish(true);
      assert.equal(await password, true);
    }
    assert.equal(checker.stats().argon2, 4);
  });
});
