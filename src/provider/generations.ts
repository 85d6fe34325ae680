import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { KeyRing, KeySet, SigningKeys } from '../keys/signing-keys.js';

interface Generation {
  ring: KeyRing;
  keys: KeySet;
  provider: Provider;
  handle: (req: IncomingMessage, res: ServerResponse) => unknown;
}

/**
 * oidc-provider takes its signing keys when it is constructed. So each key set (after a
 * rotation, or when a retired key's publication ends) gets a provider and app of its own.
 * Every protocol request first looks up the key ring (one mark read) and goes to the app of the
 * current set, so a rotation on any node is used here from the next token on. Requests in flight
 * finish on the app they started on.
 */
export async function createGenerations(deps: {
  signingKeys: SigningKeys;
  /** The provider, with Tessera's middleware and routes, for one key set. */
  build: (keys: KeySet) => Provider;
  logger: Logger;
  now?: () => number;
}) {
  const { signingKeys, logger } = deps;
  const now = deps.now ?? Date.now;
  const generation = (ring: KeyRing, keys: KeySet): Generation => {
    const provider = deps.build(keys);
    return { ring, keys, provider, handle: provider.callback() };
  };
  const first = await signingKeys.ring();
  let current = generation(first, signingKeys.keySet(first, now()));

  async function latest(): Promise<Generation> {
    const ring = await signingKeys.ring();
    if (ring === current.ring && now() < current.keys.validUntil) return current;
    const keys = signingKeys.keySet(ring, now());
    if (keys.id === current.keys.id) {
      current = { ...current, ring };
      return current;
    }
    current = generation(ring, keys);
    logger.info({ kids: current.keys.current }, 'signing keys changed');
    return current;
  }

  return {
    /** The provider of the current key set. */
    get provider(): Provider {
      return current.provider;
    },

    /** The request listener of the HTTP and mTLS servers. */
    listener(req: IncomingMessage, res: ServerResponse): void {
      if (!req.url?.startsWith('/oauth/')) {
        current.handle(req, res);
        return;
      }
      latest().then(
        (found) => found.handle(req, res),
        (error: unknown) => {
          // The store is out of reach: the request meets the same failure and answers 503.
          logger.warn({ err: error }, 'could not look up the signing keys');
          current.handle(req, res);
        },
      );
    },
  };
}

export type Generations = Awaited<ReturnType<typeof createGenerations>>;
