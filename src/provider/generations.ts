import type { Middleware } from 'koa';
import mount from 'koa-mount';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { KeyRing, KeySet, SigningKeys } from '../keys/signing-keys.js';
import { ROUTES } from './create-provider.js';

interface Generation {
  ring: KeyRing;
  keys: KeySet;
  provider: Provider;
  handle: Middleware;
}

/**
 * How often each node looks for a rotation made elsewhere: every node signs with the current key
 * within a second of its activation (README, "Signing keys"), and no token request waits for it.
 */
export const KEY_RING_POLL_MS = 500;

/**
 * oidc-provider takes its signing keys when it is constructed, so each key set (after a
 * rotation, or when a retired key's publication ends) gets a provider of its own, mounted in the
 * one host app. This module is the one getter for it. The ring is looked at every
 * `pollMs` in the background (one mark read), at once after a rotation made here, and before
 * each `/oauth/jwks` answer, so a new key is published by every node at once. Requests in flight
 * finish on the provider they started on.
 */
export async function createGenerations(deps: {
  signingKeys: SigningKeys;
  /** The provider, with its configuration and event listeners, for one key set. */
  build: (keys: KeySet) => Provider;
  logger: Logger;
  now?: () => number;
  pollMs?: number;
}) {
  const { signingKeys, logger } = deps;
  const now = deps.now ?? Date.now;
  const generation = (ring: KeyRing, keys: KeySet): Generation => {
    const provider = deps.build(keys);
    return { ring, keys, provider, handle: mount(provider) };
  };
  const first = await signingKeys.ring();
  let current = generation(first, signingKeys.keySet(first, now()));

  /** The generation of the ring as it is now in the store. */
  async function refresh(): Promise<Generation> {
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

  // One warning when the ring cannot be read, and one line when it can again. Looks that
  // overlap share one.
  let failing = false;
  let looking: Promise<void> | undefined;
  const poll = () =>
    (looking ??= refresh()
      .then(
        () => {
          if (failing) logger.info('signing keys readable again');
          failing = false;
        },
        (error: unknown) => {
          if (!failing) logger.warn({ err: error }, 'could not look up the signing keys');
          failing = true;
        },
      )
      .finally(() => {
        looking = undefined;
      }));
  const timer = setInterval(() => void poll(), deps.pollMs ?? KEY_RING_POLL_MS);
  timer.unref();

  return {
    /** The provider of the current key set. */
    get provider(): Provider {
      return current.provider;
    },

    /** The current key set. */
    get keys(): KeySet {
      return current.keys;
    },

    /** Looks at the ring now (after a rotation made here). */
    refresh,

    /** oidc-provider of the current key set, for the host app. */
    middleware(): Middleware {
      return function serveProtocol(ctx, next) {
        // The keys published are read fresh; a store out of reach leaves the last ones. A key
        // published ahead activates, or a retired one leaves, at a known time: the first
        // request after it switches, without waiting for the next look.
        if (ctx.path === ROUTES.jwks || now() >= current.keys.validUntil) {
          return poll().then(() => current.handle(ctx, next));
        }
        return current.handle(ctx, next);
      };
    },

    close(): void {
      clearInterval(timer);
    },
  };
}

export type Generations = Awaited<ReturnType<typeof createGenerations>>;
