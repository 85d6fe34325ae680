import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { connectRedis, readyRedis, type RedisClient } from '../../adapters/redis/connection.js';
import { after, before } from 'node:test';
import { freePort, spawnTessera, type TesseraProcess } from './process.js';
import { tempDir } from './tessera.js';

/** The Redis the suite uses: `REDIS_URL`, else the one these machines run on loopback. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test file or run shares. */
export const uniquePrefix = (name: string): string => `tessera-test:${name}:${randomUUID().slice(0, 8)}:`;

/** Connects with `prefix`; the returned cleanup deletes every key under it and disconnects. */
export async function testRedis(
  url: string,
  prefix: string,
): Promise<{ client: RedisClient; cleanup: () => Promise<void> }> {
  const client = connectRedis(url, prefix);
  await readyRedis(client);
  return {
    client,
    async cleanup() {
      await deleteByPrefix(url, prefix);
    },
  };
}

/** Every key under `prefix` on every master of `url`, handed to `visit` with the node that holds it. */
async function eachKey(url: string, prefix: string, visit: (node: Redis, key: string) => Promise<unknown>) {
  const admin = connectRedis(url, '');
  await readyRedis(admin);
  try {
    const nodes = 'nodes' in admin ? admin.nodes('master') : [admin];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        // Without the connection's prefix: these names are already complete.
        for (const key of keys) await visit(node, key);
      } while (cursor !== '0');
    }
  } finally {
    admin.disconnect();
  }
}

/**
 * Moves Redis's clock forward by `ms` for the keys under `prefix`, as far as they can tell:
 * every key with a lifetime loses `ms` of it, and one whose lifetime runs out is gone.
 */
export async function advanceRedisClock(url: string, prefix: string, ms: number): Promise<void> {
  await eachKey(url, prefix, async (node, key) => {
    const left = await node.pttl(key);
    if (left < 0) return;
    if (left <= ms) await node.call('UNLINK', key);
    else await node.call('PEXPIRE', key, String(left - ms));
  });
}

/** Deletes every key under `prefix`, on every master when `url` names a cluster. */
export async function deleteByPrefix(url: string, prefix: string): Promise<void> {
  await eachKey(url, prefix, (node, key) => node.call('UNLINK', key));
}
/** Starts `redis-server` on a loopback port with its files in `dir`. */
export function spawnRedisServer(port: number, dir: string, args: string[] = []): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...args,
    ],
    { stdio: 'ignore' },
  );
}

/** Resolves once a Redis on `port` answers PING. */
export async function waitForRedis(port: number): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      if (attempt > 100) throw new Error(`redis-server on ${port} did not start`);
      await sleep(100);
    } finally {
      probe.disconnect();
    }
  }
}

export interface PrivateRedis {
  url: string;
  /** Stops the server (SIGTERM: it writes its append-only file first) and waits for it. */
  stop(): Promise<void>;
  /** Starts it again on the same port and files; what it had stored comes back. */
  start(): Promise<void>;
  /** Kills the server (SIGKILL) and waits for it; what it wrote to its append-only file stays. */
  kill(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Lets a frozen server go on (SIGCONT). */
  resume(): void;
  dispose(): Promise<void>;
}

/** A Redis of the test's own, durable (append-only file, fsync always), that it may stop and restart. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = tempDir('tessera-redis-');
  const port = await freePort();
  let server: ChildProcess | undefined;
  const start = async () => {
    server = spawnRedisServer(port, dir.dir, ['--appendonly', 'yes', '--appendfsync', 'always']);
    await waitForRedis(port);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = server;
    server = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const gone = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGCONT');
    running.kill(signal);
    await gone;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    stop: () => stop(),
    kill: () => stop('SIGKILL'),
    pause: () => server?.kill('SIGSTOP'),
    resume: () => server?.kill('SIGCONT'),
    dispose: async () => {
      server?.kill('SIGCONT');
      await stop();
      dir.remove();
    },
  };
}

export interface RedisTopology {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real Redis Cluster of three masters from the `redis-server` binary on loopback ports,
 * joins it with `redis-cli --cluster create`, and waits until every slot is served.
 */
export async function startRedisCluster(): Promise<RedisTopology> {
  const dir = tempDir('tessera-cluster-');
  const ports = [await freePort(), await freePort(), await freePort()];
  const servers = ports.map((port) =>
    spawnRedisServer(port, dir.dir, [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
      '--cluster-node-timeout',
      '2000',
    ]),
  );
  const stop = async () => {
    for (const server of servers) server.kill('SIGKILL');
    await sleep(100);
    dir.remove();
  };
  try {
    for (const port of ports) await waitForRedis(port);
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`cluster create failed: ${create.stdout}${create.stderr}`);
    for (let attempt = 0; ; attempt += 1) {
      const states = ports.map(
        (port) =>
          spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout,
      );
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (attempt > 100) throw new Error('cluster did not become ready');
      await sleep(100);
    }
    return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Starts a Redis primary and one Sentinel monitoring it (as `tessera-primary`), both on loopback
 * ports, and returns the `redis+sentinel://` URL that reaches the primary through the Sentinel.
 */
export async function startRedisSentinel(): Promise<RedisTopology> {
  const dir = tempDir('tessera-sentinel-');
  const primaryPort = await freePort();
  const sentinelPort = await freePort();
  const primary = spawnRedisServer(primaryPort, dir.dir);
  const config = path.join(dir.dir, 'sentinel.conf');
  writeFileSync(
    config,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir.dir}`,
      `sentinel monitor tessera-primary 127.0.0.1 ${primaryPort} 1`,
      'sentinel down-after-milliseconds tessera-primary 5000',
      '',
    ].join('\n'),
  );
  const sentinel = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
  const stop = async () => {
    primary.kill('SIGKILL');
    sentinel.kill('SIGKILL');
    await sleep(100);
    dir.remove();
  };
  try {
    await waitForRedis(primaryPort);
    await waitForRedis(sentinelPort);
    return { url: `redis+sentinel://127.0.0.1:${sentinelPort}/tessera-primary`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Two Tessera processes sharing one embedded client store and one Redis database. */
export interface TwoNodes {
  one: TesseraProcess;
  two: TesseraProcess;
  /** The Redis URL they share (`/<database>` of the test Redis). */
  redisUrl: string;
}

/**
 * Starts two processes before a file's tests, on database `database` of the test Redis and one
 * data folder, with `env` besides; stops them and removes their keys and files afterwards.
 */
export function twoNodesOnRedis(database: number, env: Record<string, string>): TwoNodes {
  const redisUrl = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/${database}`;
  const data = tempDir();
  const nodes = { redisUrl } as TwoNodes;
  before(async () => {
    await deleteByPrefix(redisUrl, 'tessera:');
    const all = { TESSERA_DATA_DIR: data.dir, REDIS_URL: redisUrl, ...env };
    nodes.one = await spawnTessera(all);
    nodes.two = await spawnTessera(all);
  });
  after(async () => {
    await nodes.one?.stop();
    await nodes.two?.stop();
    await deleteByPrefix(redisUrl, 'tessera:');
    data.remove();
  });
  return nodes;
}
