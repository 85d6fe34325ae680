import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createSecretChecker,
  SecretChecksBusyError,
  type SecretChecker,
  type StoredSecret,
} from '../../src/crypto/secret-checker.js';

/** One secret without a hint or expiry, named by its hash. */
const only = (hash: string): StoredSecret[] => [{ id: hash, hint: null, hash, expires: null }];

/** Whether the check accepted `presented` as one of `secrets`. */
const check = (checker: SecretChecker, clientId: string, secrets: StoredSecret[], presented: string) =>
  checker.checkClientSecret(clientId, secrets, presented).then((id) => id !== undefined);

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
    const results = Array.from({ length: 5 }, (_, i) => check(checker, `c${i}`, only('h'), 'wrong'));
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
    const flood = [1, 2].map((i) => check(checker, 'victim', only('h'), `wrong-${i}`));
    await assert.rejects(async () => check(checker, 'victim', only('h'), 'wrong-3'), SecretChecksBusyError);
    const others = ['a', 'b'].map((id) => check(checker, id, only('h'), 'wrong'));
    // One running, three waiting: the queue is full for everyone now.
    await assert.rejects(async () => check(checker, 'c', only('h'), 'wrong'), SecretChecksBusyError);
    assert.equal(checker.stats().refused, 2);
    for (let i = 0; i < 4; i += 1) {
      await tick();
      checks.finish();
    }
    assert.deepEqual(await Promise.all([...flood, ...others]), [false, false, false, false]);
    // With the queue drained, the victim is served again.
    const again = check(checker, 'victim', only('h'), 'right');
    await tick();
    checks.finish(true);
    assert.equal(await again, true);
  });

  it('answers the same presentation arriving many times at once with one check', async () => {
    const checks = controlledChecks();
    const checker = createSecretChecker({ maxPerSubject: 2, verify: checks.verify });
    const burst = Array.from({ length: 20 }, () => check(checker, 'c', only('hash'), 'right'));
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
    const first = check(checker, 'c', only('hash-1'), 's3cret');
    await tick();
    checks.finish(true);
    assert.equal(await first, true);
    // Verified already: answered from the cache, no second check.
    assert.equal(await check(checker, 'c', only('hash-1'), 's3cret'), true);
    assert.equal(checker.stats().argon2, 1);

    // A new hash (rotation) sends the same secret back to the real check.
    const afterRotation = check(checker, 'c', only('hash-2'), 's3cret');
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

describe('several secrets per client', () => {
  // A stand-in hash: "hash(<secret>)" matches only that secret.
  const standIn = (verified: string[]) => async (hash: string, presented: string) => {
    verified.push(hash);
    return hash === `hash(${presented})`;
  };
  const secret = (name: string, fields: Partial<StoredSecret> = {}): StoredSecret => ({
    id: `id-${name}`,
    hint: name.slice(0, 4),
    hash: `hash(${name})`,
    expires: null,
    ...fields,
  });

  it('answers the id of the secret that matched, hashing only secrets whose hint fits', async () => {
    const verified: string[] = [];
    const checker = createSecretChecker({ verify: standIn(verified) });
    const secrets = ['aaaa-one', 'bbbb-two', 'cccc-three', 'dddd-four', 'eeee-five'].map((name) =>
      secret(name),
    );
    assert.equal(await checker.checkClientSecret('c', secrets, 'cccc-three'), 'id-cccc-three');
    assert.deepEqual(verified, ['hash(cccc-three)'], 'one argon2 check out of five secrets');
    assert.equal(await checker.checkClientSecret('c', secrets, 'zzzz-wrong'), undefined);
    assert.equal(verified.length, 1, 'a secret fitting no hint is refused without hashing');
    assert.equal(await checker.checkClientSecret('c', secrets, 'aaaa-wrong'), undefined);
    assert.deepEqual(verified.slice(1), ['hash(aaaa-one)'], 'a wrong secret costs at most one check');
    // Secrets stored before hints were kept are hashed against every time.
    const unhinted = [secret('ffff-new'), secret('legacy', { hint: null })];
    assert.equal(await checker.checkClientSecret('c', unhinted, 'legacy'), 'id-legacy');
    assert.deepEqual(verified.slice(2), ['hash(legacy)']);
  });

  it("forgets a deleted secret's verification, while the others stay cached", async () => {
    const verified: string[] = [];
    const checker = createSecretChecker({ verify: standIn(verified) });
    const [one, two] = [secret('one-1'), secret('two-2')];
    assert.equal(await checker.checkClientSecret('c', [one!, two!], 'one-1'), 'id-one-1');
    assert.equal(await checker.checkClientSecret('c', [one!, two!], 'two-2'), 'id-two-2');
    assert.equal(await checker.checkClientSecret('c', [one!, two!], 'one-1'), 'id-one-1');
    assert.equal(verified.length, 2, 'both cached');
    assert.equal(await checker.checkClientSecret('c', [two!], 'one-1'), undefined, 'deleted: refused');
    assert.equal(await checker.checkClientSecret('c', [two!], 'two-2'), 'id-two-2');
    assert.equal(verified.length, 2, 'the deleted one fits no hint left; the other is still cached');
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
    const current: StoredSecret = { id: 'new', hint: null, hash: 'hash(new)', expires: null };
    const previous: StoredSecret = { id: 'old', hint: null, hash: 'hash(old)', expires: 1_060_000 };
    const secrets = [current, previous];

    assert.equal(await check(checker, 'c', secrets, 'old'), true);
    assert.deepEqual(verified, ['hash(new)', 'hash(old)']);
    assert.equal(await check(checker, 'c', secrets, 'new'), true);
    assert.deepEqual(verified.slice(2), ['hash(new)']);

    clock = 1_059_999;
    assert.equal(await check(checker, 'c', secrets, 'old'), true, 'cached, one ms before expiry');
    assert.equal(verified.length, 3, 'answered from the cache');

    clock = 1_060_000;
    assert.equal(await check(checker, 'c', secrets, 'old'), false, 'at expiry the cache no longer counts');
    assert.deepEqual(verified.slice(3), ['hash(new)'], 'and argon2 runs against the current hash only');
    assert.equal(await check(checker, 'c', secrets, 'new'), true);
    assert.equal(verified.length, 4, 'the current secret is still cached');

    // Ending the overlap early: the secrets no longer include the previous one.
    clock = 1_000_000;
    const fresh = createSecretChecker({
      now: () => clock,
      verify: async (hash, presented) => hash === `hash(${presented})`,
    });
    assert.equal(await check(fresh, 'c', secrets, 'old'), true);
    assert.equal(await check(fresh, 'c', [current], 'old'), false);
  });
});
