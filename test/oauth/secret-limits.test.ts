import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHmac } from 'node:crypto';
import {
  createSecretChecker,
  hmacSha256,
  randomHmacKey,
  SecretChecksBusyError,
} from '../../src/crypto/secret-checker.js';

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
    // Verified already: answered at once, no check and no promise.
    assert.equal(checker.checkClientSecret('c', 'hash-1', 's3cret'), true);
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

describe('verified-secret keys', () => {
  it('are HMAC-SHA256 (RFC 2104)', () => {
    for (const key of [randomHmacKey(), randomHmacKey(), Buffer.from('key'), Buffer.alloc(64, 0x7f)]) {
      const mac = hmacSha256(key);
      const long = ['x'.repeat(1000), 'é'.repeat(341), 'é'.repeat(342), '✓'.repeat(400), '💥'.repeat(300)];
      const odd = ['\u0000', 'lone \ud800 surrogate', '\udc00', '\u00ff\u0080'];
      for (const message of [
        '',
        '7:c_1234:s3cret',
        'ünïcødé ✓ secret',
        ...long,
        ...odd,
        'after a long one',
      ]) {
        assert.equal(mac(message), createHmac('sha256', key).update(message).digest('hex'));
      }
    }
    // RFC 4231 test case 2.
    assert.equal(
      hmacSha256(Buffer.from('Jefe'))('what do ya want for nothing?'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    assert.throws(() => hmacSha256(Buffer.alloc(65, 0x41)), /longer than the SHA-256 block/);
    // A key byte of 0x80 or more would not survive as one UTF-8 byte.
    assert.throws(() => hmacSha256(Buffer.from([0x41, 0x80])), /below 0x80/);
    const key = randomHmacKey();
    assert.equal(key.length, 64);
    assert.ok(key.every((byte) => byte < 0x80));
    assert.notDeepEqual(key, randomHmacKey());
  });
});
