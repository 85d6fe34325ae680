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
    const results = Array.from({ length: 5 }, (_, i) =>
      checker.checkClientSecret(`c${i}`, { current: 'h' }, 'wrong'),
    );
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
    const flood = [1, 2].map((i) => checker.checkClientSecret('victim', { current: 'h' }, `wrong-${i}`));
    await assert.rejects(
      async () => checker.checkClientSecret('victim', { current: 'h' }, 'wrong-3'),
      SecretChecksBusyError,
    );
    const others = ['a', 'b'].map((id) => checker.checkClientSecret(id, { current: 'h' }, 'wrong'));
    // One running, three waiting: the queue is full for everyone now.
    await assert.rejects(
      async () => checker.checkClientSecret('c', { current: 'h' }, 'wrong'),
      SecretChecksBusyError,
    );
    assert.equal(checker.stats().refused, 2);
    for (let i = 0; i < 4; i += 1) {
      await tick();
      checks.finish();
    }
    assert.deepEqual(await Promise.all([...flood, ...others]), [false, false, false, false]);
    // With the queue drained, the victim is served again.
    const again = checker.checkClientSecret('victim', { current: 'h' }, 'right');
    await tick();
    checks.finish(true);
    assert.equal(await again, true);
  });

  it('answers the same presentation arriving many times at once with one check', async () => {
    const checks = controlledChecks();
    const checker = createSecretChecker({ maxPerSubject: 2, verify: checks.verify });
    const burst = Array.from({ length: 20 }, () =>
      checker.checkClientSecret('c', { current: 'hash' }, 'right'),
    );
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
    const first = checker.checkClientSecret('c', { current: 'hash-1' }, 's3cret');
    await tick();
    checks.finish(true);
    assert.equal(await first, true);
    // Verified already: answered from the cache, no second check.
    assert.equal(await checker.checkClientSecret('c', { current: 'hash-1' }, 's3cret'), true);
    assert.equal(checker.stats().argon2, 1);

    // A new hash (rotation) sends the same secret back to the real check.
    const afterRotation = checker.checkClientSecret('c', { current: 'hash-2' }, 's3cret');
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

describe('secret overlap after a rotation', () => {
  it('accepts the previous secret, cached or not, until exactly its expiry, and the current one throughout', async () => {
    let clock = 1_000_000;
    const verified: string[] = [];
    const checker = createSecretChecker({
      now: () => clock,
      // A stand-in hash: "hash(<secret>)" matches only that secret.
      verify: async (hash, presented) => {
        verified.push(hash);
        return hash === `hash(${presented})`;
      },
    });
    const hashes = { current: 'hash(new)', previous: 'hash(old)', previousExpiresAt: 1_060_000 };

    assert.equal(await checker.checkClientSecret('c', hashes, 'old'), true);
    assert.deepEqual(verified, ['hash(new)', 'hash(old)']);
    assert.equal(await checker.checkClientSecret('c', hashes, 'new'), true);
    assert.deepEqual(verified.slice(2), ['hash(new)']);

    clock = 1_059_999;
    assert.equal(await checker.checkClientSecret('c', hashes, 'old'), true, 'cached, one ms before expiry');
    assert.equal(verified.length, 3, 'answered from the cache');

    clock = 1_060_000;
    assert.equal(
      await checker.checkClientSecret('c', hashes, 'old'),
      false,
      'at expiry the cache no longer counts',
    );
    assert.deepEqual(verified.slice(3), ['hash(new)'], 'and argon2 runs against the current hash only');
    assert.equal(await checker.checkClientSecret('c', hashes, 'new'), true);
    assert.equal(verified.length, 4, 'the current secret is still cached');

    // Ending the overlap early: the hashes no longer carry the previous one.
    clock = 1_000_000;
    const fresh = createSecretChecker({
      now: () => clock,
      verify: async (hash, presented) => hash === `hash(${presented})`,
    });
    assert.equal(await fresh.checkClientSecret('c', hashes, 'old'), true);
    assert.equal(await fresh.checkClientSecret('c', { current: 'hash(new)' }, 'old'), false);
  });
});
