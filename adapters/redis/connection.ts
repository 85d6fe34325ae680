import { Cluster, Redis, ReplyError, type ClusterOptions, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../../src/errors.js';

export type RedisClient = Redis | Cluster;

/**
 * What a failed command means: a Redis error reply is a bug and surfaces as is; anything else
 * (refused connection, closed stream, retries exhausted) means Redis is out of reach right now.
 */
export function unavailable(error: unknown): never {
  if (error instanceof ReplyError) throw error;
  throw new StoreUnavailableError('token_store', { cause: error });
}

/** Runs a store call, its failures as {@link unavailable} says. */
export async function guarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    return unavailable(error);
  }
}

/**
 * How long a command waits for its reply before it fails: a request that needs a Redis that
 * stopped answering gets its 503 within a second (README, "Operations").
 */
export const COMMAND_TIMEOUT_MS = 750;

/** Reconnection attempts back off to at most this, so service resumes within a second of Redis. */
const RECONNECT_MAX_DELAY_MS = 500;

/**
 * Options shared by every connection: commands fail at once while Redis is unreachable (no
 * offline queue) and after `commandTimeout` when it hangs, so a request answers 503 instead of
 * waiting; reconnection goes on in the background with a capped back-off, so the process
 * recovers by itself. Commands issued together leave in one write (auto-pipelining).
 */
function commonOptions(commandTimeout: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout,
    retryStrategy: (times) => Math.min(50 * times, RECONNECT_MAX_DELAY_MS),
  };
}

const MULTI_HOST = /^(rediss?)\+(sentinel|cluster):\/\/(?:([^@/]*)@)?([^/?]+)(?:\/([^?]*))?(?:\?(.*))?$/;

function hostList(text: string): { host: string; port: number }[] {
  return text.split(',').map((entry) => {
    const match = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(entry.trim());
    if (!match?.[1]) throw new Error(`bad host "${entry}"`);
    return { host: match[1], port: match[2] ? Number(match[2]) : 6379 };
  });
}

function credentials(userinfo: string | undefined): { username?: string; password?: string } {
  if (!userinfo) return {};
  const [user = '', pass] = userinfo.split(':');
  return pass === undefined
    ? { password: decodeURIComponent(user) }
    : { ...(user ? { username: decodeURIComponent(user) } : {}), password: decodeURIComponent(pass) };
}

/**
 * Connects to the Redis that `url` names:
 * - `redis://[user:pass@]host:port[/db]` or `rediss://…` (TLS): one server;
 * - `redis+sentinel://[user:pass@]h1:p1,h2:p2/<master-name>[?db=N]`: Sentinel;
 * - `redis+cluster://[user:pass@]h1:p1,h2:p2`: Redis Cluster (the nodes are seeds).
 * `keyPrefix` is put in front of every key.
 */
export function connectRedis(
  url: string,
  keyPrefix: string,
  options: { commandTimeoutMs?: number } = {},
): RedisClient {
  const client = createClient(url, keyPrefix, commonOptions(options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS));
  // Connection errors surface through failing commands (503) and /readyz; without a listener
  // ioredis would print each reconnection attempt.
  client.on('error', () => undefined);
  return client;
}

function createClient(url: string, keyPrefix: string, common: RedisOptions): RedisClient {
  const multi = MULTI_HOST.exec(url);
  if (!multi) return new Redis(url, { ...common, keyPrefix, lazyConnect: true });
  const [, scheme, kind, userinfo, hosts = '', pathPart, query] = multi;
  const tls = scheme === 'rediss' ? { tls: {} } : {};
  const auth = credentials(userinfo);
  if (kind === 'sentinel') {
    const db = Number(new URLSearchParams(query ?? '').get('db') ?? 0);
    return new Redis({
      ...common,
      ...auth,
      ...tls,
      keyPrefix,
      lazyConnect: true,
      sentinels: hostList(hosts),
      name: decodeURIComponent(pathPart || 'mymaster'),
      db,
    });
  }
  const options: ClusterOptions = {
    keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    clusterRetryStrategy: (times) => Math.min(50 * times, RECONNECT_MAX_DELAY_MS),
    redisOptions: { ...common, ...auth, ...tls },
  };
  return new Cluster(hostList(hosts), options);
}

/** Connects and waits until the client is ready, or rejects after `timeoutMs`. */
export async function readyRedis(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('Redis did not answer in time')), timeoutMs);
      }),
    ]);
  } catch (error) {
    client.disconnect();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
