import { randomUUID } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { RedisClient } from './connection.js';

/**
 * Epoch marks (see `TokenStore.readEpoch`) without a Redis read per lookup.
 *
 * Every process subscribes to one channel. Moving an epoch sets its key and publishes the new
 * mark in one script, so the channel carries the marks in the order Redis stored them. Each
 * subscriber applies the mark to its local copy, then confirms on the mover's own channel; the
 * mover waits until every subscriber Redis delivered to has confirmed (or `confirmTimeoutMs`
 * passed, which it reports). So once `bump` resolves, no process answers from the old mark.
 *
 * A process reads its local copy only while its subscription is up. Before it is, after it
 * dropped (whatever was published meanwhile is lost), and for names it has not seen yet, it
 * reads Redis, and remembers the answer only if no message arrived while the read was out.
 * On Redis Cluster, where a publish cannot say how many processes received it, every read goes
 * to Redis.
 */
export interface RedisEpochs {
  /** The mark, at once from the local copy when it holds it, else read from Redis. */
  read(name: string): string | Promise<string>;
  bump(name: string): Promise<void>;
  /** Whether reads are being answered from the local copy right now. */
  readonly live: boolean;
  /** How many times the subscription has been established (it is again after a reconnection). */
  readonly subscriptions: number;
  /** The subscription's connection name (`CLIENT LIST`), none on a cluster. */
  readonly subscriberName: string | undefined;
  close(): Promise<void>;
}

export interface RedisEpochOptions {
  /** How long a move waits for the other processes' confirmations. */
  confirmTimeoutMs?: number;
  /** Told when some processes did not confirm a move in time (a stalled or cut-off process). */
  onUnconfirmed?: (missing: number, delivered: number) => void;
}

/** Sets the mark and publishes it in one step: marks reach subscribers in the order stored. */
const BUMP = `
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('PUBLISH', ARGV[2], ARGV[3])`;

interface Message {
  name: string;
  mark: string;
  /** Where to confirm, and what. */
  reply: string;
  id: string;
}

interface Waiting {
  received: number;
  needed: number;
  done: () => void;
}

const keyOf = (name: string) => `epoch:${name}`;

export function createRedisEpochs(client: RedisClient, options: RedisEpochOptions = {}): RedisEpochs {
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 2000;
  const prefix = client.options.keyPrefix ?? '';
  const self = randomUUID();
  // Channels are server-wide, not per database: the database is part of the name.
  const db = 'db' in client.options ? (client.options.db ?? 0) : 0;
  const channel = `${prefix}epochs:${db}`;
  const replies = `${prefix}epoch-confirmations:${self}`;
  const subscriberName = `${prefix}epochs:${self.slice(0, 8)}`;
  const scripted = client as unknown as {
    tesseraBumpEpoch(key: string, mark: string, channel: string, message: string): Promise<number>;
  };
  client.defineCommand('tesseraBumpEpoch', { numberOfKeys: 1, lua: BUMP });

  const marks = new LRUCache<string, string>({ max: 100_000 });
  const waiting = new Map<string, Waiting>();
  /** Moves whenever the local copy changes or may have missed something. */
  let generation = 0;
  let live = false;
  let closed = false;
  let subscriptions = 0;

  const readRedis = async (name: string): Promise<string> => {
    const before = generation;
    const mark = (await client.get(keyOf(name))) ?? '';
    if (live && generation === before) marks.set(name, mark);
    return mark;
  };

  // No subscription on a cluster: there a publish reports only the receivers on one node.
  const subscriber: Redis | undefined =
    client instanceof Cluster
      ? undefined
      : client.duplicate({ autoResubscribe: false, lazyConnect: true, connectionName: subscriberName });

  const forget = () => {
    live = false;
    generation += 1;
    marks.clear();
  };

  if (subscriber) {
    subscriber.on('error', () => undefined);
    subscriber.on('close', forget);
    subscriber.on('ready', () => {
      subscriber.subscribe(channel, replies).then(
        () => {
          if (subscriber.status !== 'ready' || closed) return;
          // Whatever was published before now is in Redis itself: start from an empty copy.
          forget();
          live = true;
          subscriptions += 1;
        },
        () => subscriber.disconnect(true),
      );
    });
    subscriber.on('message', (from: string, text: string) => {
      if (from === replies) {
        const wait = waiting.get(text);
        if (wait) {
          wait.received += 1;
          if (wait.received >= wait.needed) wait.done();
        }
        return;
      }
      if (from !== channel) return;
      let message: Message;
      try {
        message = JSON.parse(text) as Message;
      } catch {
        return;
      }
      generation += 1;
      if (live) marks.set(message.name, message.mark);
      // Confirmed only once applied: a request after this sees the new mark.
      client.publish(message.reply, message.id).catch(() => undefined);
    });
    subscriber.connect().catch(() => undefined);
  }

  return {
    get live() {
      return live;
    },
    get subscriptions() {
      return subscriptions;
    },
    subscriberName: subscriber ? subscriberName : undefined,

    read(name) {
      if (live) {
        const known = marks.get(name);
        if (known !== undefined) return known;
      }
      return readRedis(name);
    },

    async bump(name) {
      const mark = randomUUID();
      if (!subscriber) {
        await client.set(keyOf(name), mark);
        return;
      }
      const id = randomUUID();
      const confirmations = live;
      let timer: NodeJS.Timeout | undefined;
      const confirmed = new Promise<void>((resolve) => {
        const wait: Waiting = { received: 0, needed: Number.POSITIVE_INFINITY, done: resolve };
        waiting.set(id, wait);
      });
      try {
        const message: Message = { name, mark, reply: replies, id };
        const delivered = await scripted.tesseraBumpEpoch(
          keyOf(name),
          mark,
          channel,
          JSON.stringify(message),
        );
        generation += 1;
        if (live) marks.set(name, mark);
        // Without a subscription of its own, confirmations could not reach this process; the
        // others read Redis until their own subscriptions are up, this one reads it now.
        if (!confirmations) return;
        const wait = waiting.get(id)!;
        wait.needed = delivered;
        if (wait.received >= wait.needed) return;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), confirmTimeoutMs);
          timer.unref();
        });
        if ((await Promise.race([confirmed, timedOut])) === 'timeout') {
          options.onUnconfirmed?.(delivered - wait.received, delivered);
        }
      } finally {
        clearTimeout(timer);
        waiting.delete(id);
      }
    },

    async close() {
      closed = true;
      forget();
      if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
    },
  };
}
