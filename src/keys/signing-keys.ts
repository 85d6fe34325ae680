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
  /** When it starts to sign; absent for keys stored before activations existed (then: `created_at`). */
  activates_at?: string | null;
}

/**
 * Every signing key of the deployment, newest first; `revision` changes with each rotation. A
 * rotation drops keys that have not activated yet, so newest first is also latest activation
 * first: a key is current from its activation until the next key of its algorithm activates,
 * then retired.
 */
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
  /** When a retained key leaves or a next key activates, so the set changes although the ring did not (ms). */
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
  activates_at: at,
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
    'jwk' in key ? (key as unknown as RingKey) : { jwk: key as PrivateJwk, created_at: null },
  );
  return { revision, keys };
}

/** When a key starts to sign (ms); keys of the first start always have. */
const activation = (key: RingKey): number => {
  const at = key.activates_at ?? key.created_at;
  return at === null ? -Infinity : Date.parse(at);
};

/** A key's state at one moment: `retiredAt` is when the next key of its algorithm activated. */
interface KeyState {
  key: RingKey;
  status: 'next' | 'current' | 'retired';
  retiredAt: number | undefined;
}

/** Every key of the ring with its status at `at`, in ring order (newest first). */
function statesAt(ring: KeyRing, at: number): KeyState[] {
  /** The activation of the key that followed each key of an algorithm so far. */
  const followedBy = new Map<string, number>();
  return ring.keys.map((key) => {
    const activates = activation(key);
    const after = followedBy.get(key.jwk.alg);
    followedBy.set(key.jwk.alg, activates);
    if (activates > at) return { key, status: 'next', retiredAt: undefined };
    if (after === undefined || after > at) return { key, status: 'current', retiredAt: undefined };
    return { key, status: 'retired', retiredAt: after };
  });
}

/** Whether a scheduled rotation is due: no key is next, and the current one is within `leadMs` of its end. */
function rotationDue(ring: KeyRing, at: number, days: number, leadMs: number): boolean {
  const states = statesAt(ring, at);
  if (states.some((state) => state.status === 'next')) return false;
  const current = states.find((state) => state.status === 'current');
  return current === undefined || activation(current.key) + days * 86_400_000 - leadMs <= at;
}

/**
 * The deployment's signing keys, kept in the client store so every process signs with the same
 * ones. A rotation adds a new key for each algorithm, published at once and signing from its
 * activation; the key it replaces stays published for `retentionSeconds` after that (the longest
 * lifetime of anything it signed), then leaves.
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

  /** When a key leaves `/oauth/jwks` (ms); undefined while it is next or current. */
  const leavesAt = (state: KeyState): number | undefined =>
    state.retiredAt === undefined ? undefined : state.retiredAt + retentionMs;

  const published = (ring: KeyRing, at: number) =>
    statesAt(ring, at).filter((state) => (leavesAt(state) ?? Infinity) > at);

  /**
   * Adds a new key for every algorithm, activating at `activateInSeconds` from now; keys not yet
   * active are replaced, keys whose publication has ended are dropped from the store. `due`
   * decides on each ring read whether to go on. Compare-and-set on the ring's revision, retried,
   * so of rotations racing on several nodes each one applies, after the one before.
   */
  async function rotateWhile(
    activateInSeconds: number,
    due: (ring: KeyRing, at: number) => boolean,
  ): Promise<{ current: Record<SigningAlg, string>; activatesAt: string; replaced: string[] } | undefined> {
    let fresh: RingKey[] | undefined;
    for (;;) {
      const ring = await read();
      const at = now();
      if (!due(ring, at)) return undefined;
      const made = new Date(at).toISOString();
      fresh ??= await Promise.all(SIGNING_ALGS.map((alg) => generateKeyAsync(alg, made)));
      const activatesAt = new Date(at + activateInSeconds * 1000).toISOString();
      const adding = fresh.map((key) => ({ ...key, activates_at: activatesAt }));
      const states = published(ring, at);
      const kept = states.filter((state) => state.status !== 'next').map((state) => state.key);
      const replaced = states.filter((state) => state.status === 'next').map((state) => state.key.jwk.kid);
      const next: KeyRing & { revision: string } = { revision: randomUUID(), keys: [...adding, ...kept] };
      if (await clientStore.replaceSecretValue(RING, ring.revision, next)) {
        await marks.bump(RING_MARK);
        const current = Object.fromEntries(adding.map((key) => [key.jwk.alg, key.jwk.kid]));
        return { current: current as Record<SigningAlg, string>, activatesAt, replaced };
      }
    }
  }

  async function currentRing(): Promise<KeyRing> {
    if (!deps.shared) return read();
    const mark = await marks.read(RING_MARK);
    if (cached && cached.mark === mark && now() - cached.loadedAt < maxAgeMs) return cached.ring;
    const loadedAt = now();
    const ring = await read();
    cached = { mark, ring, loadedAt };
    return ring;
  }

  return {
    /** The ring as it is now in the store, read again only when a rotation moved its mark. */
    ring: currentRing,

    /** What to sign and verify with at `at`: current keys first, then next and retired ones still published. */
    keySet(ring: KeyRing, at = now()): KeySet {
      const order = { current: 0, next: 1, retired: 2 } as const;
      const states = published(ring, at).sort((a, b) => order[a.status] - order[b.status]);
      const current = Object.fromEntries(
        SIGNING_ALGS.map((alg) => [
          alg,
          states.find((state) => state.key.jwk.alg === alg && state.status === 'current')!.key.jwk.kid,
        ]),
      ) as Record<SigningAlg, string>;
      const changes = states.map((state) =>
        state.status === 'next' ? activation(state.key) : (leavesAt(state) ?? Infinity),
      );
      return {
        jwks: { keys: states.map((state) => state.key.jwk) },
        current,
        validUntil: Math.min(...changes),
        id: states.map((state) => `${state.status}:${state.key.jwk.kid}`).join(' '),
      };
    },

    /** A rotation asked for (contract section 12): new keys activating in `activateInSeconds`. */
    async rotate(activateInSeconds = 0) {
      return (await rotateWhile(activateInSeconds, () => true))!;
    },

    /**
     * The scheduled rotation (`TESSERA_KEY_ROTATION_DAYS`): when the current key has signed for
     * `days` less `leadSeconds` and no key is next, new keys activating in `leadSeconds`. The
     * condition is checked again on each compare-and-set, so however many nodes try, one rotates.
     */
    async rotateIfDue(days: number, leadSeconds: number) {
      const due = (ring: KeyRing, at: number) => rotationDue(ring, at, days, leadSeconds * 1000);
      // Each node's check every minute looks at the ring it has; the store is read when due.
      if (!due(await currentRing(), now())) return undefined;
      return rotateWhile(leadSeconds, due);
    },

    /** The keys without their private parts: what a read may show. */
    view(ring: KeyRing) {
      return published(ring, now()).map((state) => {
        const leaves = leavesAt(state);
        const activates = activation(state.key);
        return {
          kid: state.key.jwk.kid,
          alg: state.key.jwk.alg,
          status: state.status,
          created_at: state.key.created_at,
          activates_at: Number.isFinite(activates) ? new Date(activates).toISOString() : state.key.created_at,
          retires_at: leaves === undefined ? null : new Date(leaves).toISOString(),
        };
      });
    },
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;
