import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { errors } from 'oidc-provider';
import { verifySecret } from './secrets.js';

/** Thrown when too many argon2 checks are already running or waiting: answer 503, retry later. */
export class SecretChecksBusyError extends errors.OIDCProviderError {
  constructor() {
    super(503, 'temporarily_unavailable');
    this.expose = true;
    this.error_description = 'too many client authentications in progress; retry shortly';
  }
}

export interface SecretCheckerOptions {
  /** argon2 checks running at once (each holds a libuv thread for ~40 ms). */
  maxConcurrent?: number;
  /** Checks waiting for a slot, over all callers. */
  maxQueued?: number;
  /** Checks running or waiting for one subject (client or user), so one cannot fill the queue. */
  maxPerSubject?: number;
  /** Verified credentials remembered. */
  maxEntries?: number;
  /** The hash check itself (argon2id); replaceable so the limits can be tested on their own. */
  verify?: (hash: string, presented: string) => Promise<boolean>;
  /** Told how each client secret check ended (for metrics). */
  onClientSecretCheck?: (result: 'cached' | 'verified' | 'failed' | 'busy') => void;
  /** The clock secrets' expiries are compared with (milliseconds). */
  now?: () => number;
}

/** One of a client's secrets, as the check sees it. */
export interface StoredSecret {
  id: string;
  /** The secret's first characters, or null when unknown: only secrets it fits are hashed. */
  hint: string | null;
  /** argon2id */
  hash: string;
  /** Epoch ms from which it fails; null: no expiry. */
  expires: number | null;
}

export interface SecretCheckerStats {
  /** argon2 verifications actually run. */
  argon2: number;
  /** Secrets accepted from the cache of verified credentials. */
  cacheHits: number;
  /** Checks refused because the limits were reached. */
  refused: number;
  /** The most argon2 checks that ever ran at once. */
  peakConcurrent: number;
}

/**
 * Checks client secrets and passwords against their argon2id hashes, cheaply and boundedly:
 *
 * - Only the client's secrets that have not expired and whose hint the presented secret starts
 *   with are hashed against, so a wrong secret costs at most one argon2 check however many
 *   secrets the client holds (its hint is 4 of its 43 characters: 24 bits, never enough to guess).
 * - A secret that verified once is remembered, in this process only, under an HMAC (with a key
 *   made at start and never stored) of the client id and the presented secret, together with
 *   the hash it verified against. It counts again only while that hash is still one of the
 *   client's working secrets: a deleted or expired secret goes back to argon2, and fails.
 *   Failed checks are never remembered, and passwords are never cached.
 * - The same presentation arriving while its check runs waits for that check.
 * - At most `maxConcurrent` argon2 checks run at once; others wait in a bounded queue, with a
 *   per-subject share (a client's secrets per source address, a user's password), so a flood of
 *   wrong secrets can neither occupy every libuv thread nor crowd out other clients, nor the
 *   same client elsewhere. Beyond that, {@link SecretChecksBusyError}.
 */
export function createSecretChecker(options: SecretCheckerOptions = {}) {
  const maxConcurrent = options.maxConcurrent ?? 2;
  const maxQueued = options.maxQueued ?? 64;
  const maxPerSubject = options.maxPerSubject ?? 8;
  const verify = options.verify ?? verifySecret;
  const now = options.now ?? Date.now;
  // Made at start and never stored: the cache's keys mean nothing outside this process.
  const macKey = randomBytes(32);
  const verified = new LRUCache<string, string>({ max: options.maxEntries ?? 10_000 });
  /** Checks in flight by credential and hash: the same presentation arriving again waits for it. */
  const inFlight = new Map<string, Promise<string | undefined>>();
  const stats: SecretCheckerStats = { argon2: 0, cacheHits: 0, refused: 0, peakConcurrent: 0 };

  let active = 0;
  const waiting: (() => void)[] = [];
  const perSubject = new Map<string, number>();

  async function limited<T>(subject: string, check: () => Promise<T>): Promise<T> {
    const held = perSubject.get(subject) ?? 0;
    if (held >= maxPerSubject || (active >= maxConcurrent && waiting.length >= maxQueued)) {
      stats.refused += 1;
      throw new SecretChecksBusyError();
    }
    perSubject.set(subject, held + 1);
    try {
      // A released slot passes straight to the next waiter, so `active` never overshoots.
      if (active < maxConcurrent) active += 1;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      stats.peakConcurrent = Math.max(stats.peakConcurrent, active);
      stats.argon2 += 1;
      try {
        return await check();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else active -= 1;
      }
    } finally {
      const left = (perSubject.get(subject) ?? 1) - 1;
      if (left === 0) perSubject.delete(subject);
      else perSubject.set(subject, left);
    }
  }

  const macOf = (clientId: string, presented: string): string =>
    createHmac('sha256', macKey).update(`${clientId.length}:${clientId}:${presented}`).digest('hex');

  return {
    /**
     * The id of the secret of client `clientId` that `presented` is, among `secrets` that work
     * now; undefined when it is none of them. `source` (the caller's address) keeps one source's
     * checks from taking every slot of the client; `beforeHashing` runs only when argon2 is about
     * to run, and may refuse.
     */
    async checkClientSecret(
      clientId: string,
      secrets: readonly StoredSecret[],
      presented: string,
      call: { source?: string; beforeHashing?: () => Promise<void> } = {},
    ): Promise<string | undefined> {
      const at = now();
      const working = secrets.filter((secret) => secret.expires === null || at < secret.expires);
      const mac = macOf(clientId, presented);
      const remembered = verified.get(mac);
      const known = remembered === undefined ? undefined : working.find((s) => s.hash === remembered);
      if (known) {
        stats.cacheHits += 1;
        options.onClientSecretCheck?.('cached');
        return known.id;
      }
      const candidates = working.filter(
        (secret) => secret.hint === null || presented.startsWith(secret.hint),
      );
      // A client starting up sends many requests at once with a secret not yet verified: one
      // argon2 check answers all of them.
      const flight = `${mac}:${candidates.map((secret) => secret.hash).join(':')}`;
      let pending = inFlight.get(flight);
      if (!pending) {
        const matching = async (): Promise<StoredSecret | undefined> => {
          for (const secret of candidates) if (await verify(secret.hash, presented)) return secret;
          return undefined;
        };
        const hashing = async () => {
          if (candidates.length === 0) return undefined;
          await call.beforeHashing?.();
          return limited(`client:${clientId}:${call.source ?? ''}`, matching);
        };
        pending = hashing()
          .then((secret) => {
            if (secret === undefined) return undefined;
            verified.set(mac, secret.hash);
            return secret.id;
          })
          .finally(() => inFlight.delete(flight));
        inFlight.set(flight, pending);
      }
      const told = options.onClientSecretCheck;
      if (!told) return pending;
      return pending.then(
        (id) => {
          told(id === undefined ? 'failed' : 'verified');
          return id;
        },
        (error: unknown) => {
          if (error instanceof SecretChecksBusyError) told('busy');
          throw error;
        },
      );
    },

    /** A user's password check: never cached, but within the same limits. */
    checkPassword(userId: string, hash: string, presented: string): Promise<boolean> {
      return limited(`user:${userId}`, () => verify(hash, presented));
    },

    stats(): SecretCheckerStats {
      return { ...stats };
    },
  };
}

export type SecretChecker = ReturnType<typeof createSecretChecker>;
