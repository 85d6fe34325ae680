import { generateKeyPair, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { CacheMarks } from '../stores/cache-marks.js';
import type { ClientStore } from '../stores/client-store.js';

/** The algorithms Tessera signs with: ID tokens RS256, JWT access tokens `TESSERA_JWT_ALG`. */
export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

export interface PrivateJwks {
  keys: Record<string, unknown>[];
}

type PrivateJwk = Record<string, unknown> & { kid: string; alg: SigningAlg };

/** One signing key as the client store keeps it. */
export interface RingKey {
  jwk: PrivateJwk;
  /** Null for the keys of the first start, which was before keys had dates. */
  created_at: string | null;
  /** When a rotation replaced it; null while it is its algorithm's current key. */
  retired_at: string | null;
}

/** Every signing key of the deployment; `revision` changes with each rotation. */
export interface KeyRing {
  /** Null for a ring written before rotations existed (a plain JWKS). */
  revision: string | null;
  keys: RingKey[];
}

/** The keys a node signs and verifies with at one moment, and until when that holds. */
export interface KeySet {
  /** Private JWKS for oidc-provider: the current key of each algorithm first, then retained ones. */
  jwks: PrivateJwks;
  /** The current key of each algorithm. */
  current: Record<SigningAlg, string>;
  /** When a retained key leaves, so the set changes although the ring did not (ms). */
  validUntil: number;
  /** Equal for equal sets: the kids in order. */
  id: string;
}

/**
 * How long past the longest token lifetime a replaced key stays published: a request that
 * looked the keys up just before a rotation may still sign with the key it replaced.
 */
export const ROTATION_GRACE_SECONDS = 60;

/** Key ring under its historical name: the first start stored a plain JWKS here. */
const RING = 'jwks';
/** The mark moved after every rotation, so each node reads the ring again on its next request. */
const RING_MARK = 'signing-keys';

const generatePair = promisify(generateKeyPair);

const ringKey = (alg: SigningAlg, privateKey: KeyObject, at: string): RingKey => ({
  jwk: { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg, use: 'sig' },
  created_at: at,
  retired_at: null,
});

/** A new key pair; the first start's, which runs before anything is served, is made at once. */
function generateKey(alg: SigningAlg, at: string): RingKey {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return ringKey(alg, privateKey, at);
}

/** A new key pair made off the event loop, so a rotation does not hold up requests. */
async function generateKeyAsync(alg: SigningAlg, at: string): Promise<RingKey> {
  const { privateKey } =
    alg === 'RS256'
      ? await generatePair('rsa', { modulusLength: 2048 })
      : await generatePair('ec', { namedCurve: 'P-256' });
  return ringKey(alg, privateKey, at);
}

/** The stored value as a ring: a plain JWKS (the first start's) holds only current keys. */
function ringOf(stored: KeyRing | PrivateJwks): KeyRing {
  const revision = 'revision' in stored && typeof stored.revision === 'string' ? stored.revision : null;
  const keys = stored.keys.map((key) =>
    'jwk' in key
      ? (key as unknown as RingKey)
      : { jwk: key as PrivateJwk, created_at: null, retired_at: null },
  );
  return { revision, keys };
}

/**
 * The deployment's signing keys, kept in the client store so every process signs with the same
 * ones. A rotation makes a new key current for each algorithm; a replaced key stays published
 * for `retentionSeconds` (the longest lifetime of anything it signed), then leaves.
 */
export function createSigningKeys(deps: {
  clientStore: ClientStore;
  marks: CacheMarks;
  /** Whether the marks are shared by every process; otherwise each look reads the ring. */
  shared: boolean;
  retentionSeconds: number;
  now?: () => number;
  /** Backstop for a rotation whose mark move failed: the ring is read again after this. */
  maxAgeMs?: number;
}) {
  const { clientStore, marks } = deps;
  const now = deps.now ?? Date.now;
  const retentionMs = deps.retentionSeconds * 1000;
  const maxAgeMs = deps.maxAgeMs ?? 60_000;
  let cached: { mark: string; ring: KeyRing; loadedAt: number } | undefined;

  const read = async (): Promise<KeyRing> =>
    ringOf(
      await clientStore.ensureSecretValue<KeyRing | PrivateJwks>(RING, () => {
        const at = new Date(now()).toISOString();
        return { revision: randomUUID(), keys: SIGNING_ALGS.map((alg) => generateKey(alg, at)) };
      }),
    );

  /** When a retired key leaves `/oauth/jwks` (ms); undefined for a current key. */
  const leavesAt = (key: RingKey): number | undefined =>
    key.retired_at === null ? undefined : Date.parse(key.retired_at) + retentionMs;

  const published = (ring: KeyRing, at: number) =>
    ring.keys.filter((key) => (leavesAt(key) ?? Infinity) > at);

  return {
    /** The ring as it is now in the store, read again only when a rotation moved its mark. */
    async ring(): Promise<KeyRing> {
      if (!deps.shared) return read();
      const mark = await marks.read(RING_MARK);
      if (cached && cached.mark === mark && now() - cached.loadedAt < maxAgeMs) return cached.ring;
      const loadedAt = now();
      const ring = await read();
      cached = { mark, ring, loadedAt };
      return ring;
    },

    /** What to sign and verify with at `at`: current keys, and retired ones still published. */
    keySet(ring: KeyRing, at = now()): KeySet {
      const keys = published(ring, at).sort(
        (a, b) => Number(a.retired_at !== null) - Number(b.retired_at !== null),
      );
      const current = Object.fromEntries(
        SIGNING_ALGS.map((alg) => [alg, keys.find((key) => key.jwk.alg === alg)!.jwk.kid]),
      ) as Record<SigningAlg, string>;
      const validUntil = Math.min(...keys.map((key) => leavesAt(key) ?? Infinity));
      return {
        jwks: { keys: keys.map((key) => key.jwk) },
        current,
        validUntil,
        id: keys.map((key) => key.jwk.kid).join(' '),
      };
    },

    /**
     * Makes a new key current for every algorithm and retires the ones it replaces; keys whose
     * publication has ended are dropped from the store. Of rotations racing on several nodes,
     * each one is applied (compare-and-set on the ring's revision, retried).
     */
    async rotate(): Promise<{ current: Record<SigningAlg, string>; retired: string[] }> {
      const made = new Date(now()).toISOString();
      const fresh = await Promise.all(SIGNING_ALGS.map((alg) => generateKeyAsync(alg, made)));
      for (;;) {
        const ring = await read();
        const at = now();
        const iso = new Date(at).toISOString();
        const retired = ring.keys.filter((key) => key.retired_at === null).map((key) => key.jwk.kid);
        const kept = published(ring, at).map((key) =>
          key.retired_at === null ? { ...key, retired_at: iso } : key,
        );
        const next: KeyRing & { revision: string } = { revision: randomUUID(), keys: [...fresh, ...kept] };
        if (await clientStore.replaceSecretValue(RING, ring.revision, next)) {
          await marks.bump(RING_MARK);
          const current = Object.fromEntries(fresh.map((key) => [key.jwk.alg, key.jwk.kid]));
          return { current: current as Record<SigningAlg, string>, retired };
        }
      }
    },

    /** The keys without their private parts: what a read may show. */
    view(ring: KeyRing) {
      return published(ring, now()).map((key) => {
        const leaves = leavesAt(key);
        return {
          kid: key.jwk.kid,
          alg: key.jwk.alg,
          status: key.retired_at === null ? 'current' : 'retired',
          created_at: key.created_at,
          retired_at: key.retired_at,
          published_until: leaves === undefined ? null : new Date(leaves).toISOString(),
        };
      });
    },
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;
