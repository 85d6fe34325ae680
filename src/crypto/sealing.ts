import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, parseSecretsKey, type Config } from '../config.js';
import type { ClientStore } from '../stores/client-store.js';

/** The generated key file of the embedded store (README, "Key material at rest"). */
export const SECRETS_KEY_FILE = 'secrets.key';

/**
 * The keys key material is sealed with: `TESSERA_SECRETS_KEY` when set; else, on the embedded
 * store, the one in `TESSERA_DATA_DIR/secrets.key`, made (mode 0600) on the first start. Several
 * processes starting at once on one data directory all end up with the one that was written.
 */
export function loadSecretsKeys(config: Pick<Config, 'secretsKeys' | 'dataDir'>): {
  keys: Buffer[];
  generatedFile?: string;
} {
  if (config.secretsKeys) return { keys: [...config.secretsKeys] };
  const file = path.join(config.dataDir, SECRETS_KEY_FILE);
  mkdirSync(config.dataDir, { recursive: true });
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('base64url')}\n`);
    } finally {
      closeSync(fd);
    }
    return { keys: [readKeyFile(file)], generatedFile: file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { keys: [readKeyFile(file)] };
}

function readKeyFile(file: string): Buffer {
  const key = parseSecretsKey(readFileSync(file, 'utf8').trim());
  if (!key) throw new ConfigError('TESSERA_SECRETS_KEY', `${file} does not hold a 256-bit key`);
  return key;
}

/** A value as the store keeps it once sealed; `revision` stays readable for compare-and-set. */
export interface SealedValue {
  sealed: 'A256GCM';
  /** Which key sealed it: the first 8 bytes of the key's SHA-256, base64url. */
  kid: string;
  iv: string;
  tag: string;
  data: string;
  revision?: string;
}

const isSealed = (value: unknown): value is SealedValue =>
  typeof value === 'object' && value !== null && (value as { sealed?: unknown }).sealed === 'A256GCM';

const kidOf = (key: Buffer): string =>
  createHash('sha256').update(key).digest().subarray(0, 8).toString('base64url');

/** Sealed material that no key of `TESSERA_SECRETS_KEY` opens. */
export class UnsealableError extends Error {
  constructor() {
    super('no key of TESSERA_SECRETS_KEY opens this');
    this.name = 'UnsealableError';
  }
}

/** What each stored value is, for the one line a start that cannot open it prints. */
const KINDS: Record<string, string> = { jwks: 'signing keys', 'cookie-keys': 'cookie keys' };

/**
 * AES-256-GCM sealing of the values the client store keeps under names (signing and cookie
 * keys). The value's name is the additional data, so a sealed value cannot pass for another.
 */
export function createSealer(keys: readonly Buffer[]) {
  const [first] = keys;
  if (!first) throw new ConfigError('TESSERA_SECRETS_KEY', 'holds no key');
  const byKid = new Map(keys.map((key) => [kidOf(key), key]));
  const firstKid = kidOf(first);

  return {
    seal(name: string, value: unknown): SealedValue {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', first, iv);
      cipher.setAAD(Buffer.from(name));
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      const revision = (value as { revision?: unknown } | null)?.revision;
      return {
        sealed: 'A256GCM',
        kid: firstKid,
        iv: iv.toString('base64url'),
        tag: cipher.getAuthTag().toString('base64url'),
        data: data.toString('base64url'),
        ...(typeof revision === 'string' ? { revision } : {}),
      };
    },

    /** The plain value; {@link UnsealableError} when no listed key opens it. */
    open<T>(name: string, stored: SealedValue): T {
      const key = byKid.get(stored.kid);
      try {
        if (!key) throw new Error('no such key');
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(stored.iv, 'base64url'));
        decipher.setAAD(Buffer.from(name));
        decipher.setAuthTag(Buffer.from(stored.tag, 'base64url'));
        const plain = Buffer.concat([
          decipher.update(Buffer.from(stored.data, 'base64url')),
          decipher.final(),
        ]);
        return JSON.parse(plain.toString('utf8')) as T;
      } catch {
        throw new UnsealableError();
      }
    },

    /** Whether a stored value is sealed under the first key (else it is sealed again). */
    current: (stored: unknown): boolean => isSealed(stored) && stored.kid === firstKid,
  };
}

export type Sealer = ReturnType<typeof createSealer>;

/**
 * The client store with its named values sealed (README, "Key material at rest"): written
 * sealed under the first key, and opened on read. A value read in the clear (from an earlier
 * version) or sealed under another listed key is sealed again under the first one on that read,
 * which happens at every start for each of them; of nodes doing so at once, all write the same
 * plain value, and the compare-and-set keeps a rotation made meanwhile.
 */
export function withSealedValues(store: ClientStore, sealer: Sealer, storeName: string): ClientStore {
  const opened = <T>(name: string, stored: unknown): T => {
    if (!isSealed(stored)) return stored as T;
    try {
      return sealer.open<T>(name, stored);
    } catch (error) {
      if (!(error instanceof UnsealableError)) throw error;
      // Read at every start: the start stops with one line naming the store and the material.
      throw new ConfigError(
        'TESSERA_SECRETS_KEY',
        `none of its keys opens the ${KINDS[name] ?? name} in the client store (${storeName})`,
      );
    }
  };
  return {
    ...store,
    async ensureSecretValue<T>(name: string, create: () => T): Promise<T> {
      const stored = await store.ensureSecretValue<unknown>(name, () => sealer.seal(name, create()));
      const value = opened<T>(name, stored);
      if (!sealer.current(stored)) {
        const revision = (stored as { revision?: unknown }).revision;
        await store.replaceSecretValue(
          name,
          typeof revision === 'string' ? revision : null,
          sealer.seal(name, value) as SealedValue & { revision: string },
        );
      }
      return value;
    },
    replaceSecretValue: (name, revision, next) =>
      store.replaceSecretValue(name, revision, sealer.seal(name, next) as SealedValue & { revision: string }),
  };
}
