import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ModelAdapter, TokenStore } from '../stores/token-store.js';
import { UnsealableError, type SealedValue, type Sealer } from '../crypto/sealing.js';

/** A sign-in the console started: what its callback must find again. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  /** The console page to return to (a path under `/admin`). */
  returnTo: string;
  /** The account signed in to (`tessera_account`), when not `default`. */
  account: string | null;
}

/** The console's tokens for the signed-in user; they never leave the server. */
export interface ConsoleTokens {
  userId: string;
  accessToken: string;
  refreshToken: string | null;
  /** When the access token expires (epoch ms). */
  expiresAt: number;
}

/** A secret, certificate or key to show once: the first read of each part deletes it. */
export interface OneTimeEntry {
  heading: 'Client created' | 'Secret rotated' | 'Secret added' | 'Certificate issued' | 'Account created';
  clientId: string;
  clientSecret: string | null;
  certificatePem: string | null;
  privateKeyPem: string | null;
  /** Where the page links back to. */
  back: string;
}

/** The parts of a one-time entry that are secrets. */
type SecretParts = Pick<OneTimeEntry, 'clientSecret' | 'certificatePem' | 'privateKeyPem'>;

/** A one-time entry as the session keeps it: its secrets sealed (README, "Key material at rest"). */
interface StoredOneTime {
  heading: OneTimeEntry['heading'];
  clientId: string;
  back: string;
  sealed: SealedValue;
}

export interface ConsoleSession {
  id: string;
  /** The synchronizer token every form of this session carries. */
  csrf: string;
  /** Absolute end of the session (epoch ms). */
  expiresAt: number;
  pending: PendingSignIn[];
  tokens: ConsoleTokens | null;
  oneTime: Record<string, StoredOneTime>;
}

/** How long a console session lasts at most, signed in or not. */
export const SESSION_HOURS = 8;
/** Sign-ins started but not finished that one session remembers (one per open tab). */
const MAX_PENDING = 5;

const randomId = () => randomBytes(32).toString('base64url');

/**
 * Console sessions, kept in the token store (Redis when configured), so any node serves any
 * session. The browser holds only the session's random id.
 */
export function createConsoleSessions(deps: { tokenStore: TokenStore; sealer: Sealer; now?: () => number }) {
  const store: ModelAdapter = deps.tokenStore.adapter('ConsoleSession');
  const now = deps.now ?? Date.now;
  // A secret or private key waiting to be shown sits in the token store: sealed, like key material.
  const sealOf = (key: string) => `console-once:${key}`;

  async function save(session: ConsoleSession): Promise<void> {
    const seconds = Math.ceil((session.expiresAt - now()) / 1000);
    if (seconds <= 0) return store.destroy(session.id);
    await store.upsert(session.id, { ...session } as never, seconds);
  }

  return {
    async find(id: string | undefined): Promise<ConsoleSession | null> {
      if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
      const found = (await store.find(id)) as unknown as ConsoleSession | undefined;
      return found && found.expiresAt > now() ? found : null;
    },

    /** A new session, not yet saved. */
    create(): ConsoleSession {
      return {
        id: randomId(),
        csrf: randomId(),
        expiresAt: now() + SESSION_HOURS * 3600_000,
        pending: [],
        tokens: null,
        oneTime: {},
      };
    },

    save,

    /** Remembers a sign-in in progress (the oldest is forgotten past {@link MAX_PENDING}). */
    async addPending(session: ConsoleSession, pending: PendingSignIn): Promise<void> {
      session.pending = [...session.pending, pending].slice(-MAX_PENDING);
      await save(session);
    },

    /**
     * After a sign-in: a new session id for the signed-in user (so an id planted before the
     * sign-in is worth nothing), and the old record gone.
     */
    async signedIn(session: ConsoleSession, tokens: ConsoleTokens): Promise<ConsoleSession> {
      await store.destroy(session.id);
      const fresh = { ...this.create(), tokens };
      await save(fresh);
      return fresh;
    },

    async destroy(session: ConsoleSession): Promise<void> {
      await store.destroy(session.id);
    },

    /** Stores `entry` to be shown once; returns its key. */
    async putOneTime(session: ConsoleSession, entry: OneTimeEntry): Promise<string> {
      const key = randomBytes(16).toString('base64url');
      const { heading, clientId, back, ...secrets } = entry;
      const stored: StoredOneTime = {
        heading,
        clientId,
        back,
        sealed: deps.sealer.seal(sealOf(key), secrets),
      };
      session.oneTime = { ...session.oneTime, [key]: stored };
      await save(session);
      return key;
    },

    /**
     * Takes one part of a one-time entry: it is deleted from the session before it is returned,
     * so a reload or a second tab gets null.
     */
    async takeOneTime<K extends keyof SecretParts>(
      session: ConsoleSession,
      key: string,
      parts: K[],
    ): Promise<(OneTimeEntry & { taken: Pick<OneTimeEntry, K> }) | null> {
      const stored = session.oneTime[key];
      if (!stored) return null;
      const { sealed, ...shown } = stored;
      let secrets: SecretParts;
      try {
        secrets = deps.sealer.open<SecretParts>(sealOf(key), sealed);
      } catch (error) {
        // Sealed under a key since taken out of TESSERA_SECRETS_KEY: as good as shown.
        if (error instanceof UnsealableError) return null;
        throw error;
      }
      const taken = Object.fromEntries(parts.map((part) => [part, secrets[part]])) as Pick<OneTimeEntry, K>;
      const rest: SecretParts = { ...secrets, ...Object.fromEntries(parts.map((part) => [part, null])) };
      const { [key]: _shown, ...others } = session.oneTime;
      const left = rest.clientSecret || rest.certificatePem || rest.privateKeyPem;
      session.oneTime = left
        ? { ...others, [key]: { ...shown, sealed: deps.sealer.seal(sealOf(key), rest) } }
        : others;
      await save(session);
      return { ...shown, ...secrets, taken };
    },

    /** Whether `presented` is this session's form token. */
    csrfMatches(session: ConsoleSession, presented: unknown): boolean {
      const expected = Buffer.from(session.csrf);
      const given = Buffer.from(typeof presented === 'string' ? presented : '');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

export type ConsoleSessions = ReturnType<typeof createConsoleSessions>;
