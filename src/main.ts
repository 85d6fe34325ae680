import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from 'pino';
import { formatGeneratedCredentials } from './bootstrap.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createContainer, type Container } from './container.js';
import { serveClusterMetrics } from './http/cluster-metrics.js';
import { createLogger } from './logger.js';

function fail(line: string): never {
  process.stderr.write(`tessera: ${line}\n`);
  process.exit(1);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Builds the container (bootstrap, keys, certificates) and tells the operator what it generated. */
async function prepare(config: Config, logger: Logger): Promise<Container> {
  let container: Container;
  try {
    container = await createContainer(config, logger);
  } catch (error) {
    if (error instanceof ConfigError) {
      // What the bootstrap generated before the refusal is shown now, or it would be lost.
      const generated = error.generated && formatGeneratedCredentials(error.generated);
      if (generated) process.stdout.write(`\n${generated}\n`);
      fail(`invalid setting ${error.message}`);
    }
    throw error;
  }

  const block = formatGeneratedCredentials(container.generated);
  if (block) process.stdout.write(`\n${block}\n`);

  if (container.generatedFiles.length > 0) {
    logger.info({ files: container.generatedFiles }, 'generated development key material');
    if (config.mongodbUri && !config.clientCaCertFile) {
      logger.warn(
        'the client CA was generated on this node: give every node the same TESSERA_CLIENT_CA_CERT and TESSERA_CLIENT_CA_KEY',
      );
    }
  }
  return container;
}

/**
 * glibc keeps a freed large block (argon2 uses 19 MiB per check) in the arena of the thread that
 * freed it once its dynamic mmap threshold has grown; a fixed threshold returns such blocks to the
 * system. Read at process start, so it is set for workers here and by `npm start` and the image.
 */
const MMAP_THRESHOLD = '131072';

/**
 * `TESSERA_WORKERS` > 1: this process prepares everything once (so the bootstrap prints once and
 * nothing is generated twice), then runs that many workers on the same ports, restarts a worker
 * that dies after it was serving, and stops them all gracefully on SIGTERM.
 */
async function supervise(config: Config, logger: Logger): Promise<void> {
  await (await prepare(config, logger)).close();
  serveClusterMetrics();
  let stopping = false;
  const serving = new Set<number>();
  const start = () => {
    const worker = cluster.fork({
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? MMAP_THRESHOLD,
    });
    worker.on('listening', () => serving.add(worker.id));
    worker.on('exit', (code, signal) => {
      const wasServing = serving.delete(worker.id);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit();
        return;
      }
      if (!wasServing) {
        // It never got to serve (a port in use, a store gone): restarting would only loop.
        logger.error({ worker: worker.id, code, signal }, 'worker failed to start; stopping');
        stopping = true;
        for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
        process.exitCode = 1;
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit();
        return;
      }
      logger.error({ worker: worker.id, code, signal }, 'worker died; starting another');
      setTimeout(start, 1000).unref();
    });
  };
  for (let i = 0; i < config.workers; i += 1) start();
  logger.info({ workers: config.workers }, 'supervising workers');
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** How long a stop waits for requests in flight before it closes what is left (contract section 8). */
const STOP_GRACE_MS = 8_000;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`invalid setting ${error.message}`);
    throw error;
  }
  const logger = createLogger(config.logLevel);
  if (cluster.isPrimary && config.workers > 1) return supervise(config, logger);
  const container = await prepare(config, logger);

  const handle = container.listener;
  let stopping = false;
  // After SIGTERM every answer closes its connection, those in flight at the signal included,
  // so kept-alive clients move elsewhere.
  const inFlight = new Set<ServerResponse>();
  const callback = (req: IncomingMessage, res: ServerResponse) => {
    if (stopping) {
      res.setHeader('connection', 'close');
    } else {
      inFlight.add(res);
      res.once('close', () => inFlight.delete(res));
    }
    return handle(req, res);
  };
  const server = createServer(callback);
  const mtlsServer = container.mtlsServerOptions
    ? createHttpsServer(container.mtlsServerOptions, callback)
    : undefined;
  for (const [listener, port, variable] of [
    [server, config.port, 'PORT'],
    [mtlsServer, config.mtlsPort, 'MTLS_PORT'],
  ] as const) {
    if (!listener) continue;
    try {
      await listen(listener, port);
    } catch (error) {
      server.close();
      await container.close();
      fail(`cannot listen on ${variable} ${port}: ${(error as Error).message}`);
    }
  }
  const portOf = (listener: Server | undefined) => {
    const address = listener?.address();
    return typeof address === 'object' && address ? address.port : undefined;
  };
  logger.info(
    { port: portOf(server), mtls_port: portOf(mtlsServer) ?? null, issuer: config.issuer },
    'tessera listening',
  );

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    const listeners = [server, mtlsServer].filter((listener) => listener !== undefined);
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    // Whatever is still open after the grace period is cut, so the process always exits.
    setTimeout(() => {
      logger.warn({ grace_seconds: STOP_GRACE_MS / 1000 }, 'stopping: closing the connections still open');
      for (const listener of listeners) listener.closeAllConnections();
    }, STOP_GRACE_MS).unref();
    Promise.all(
      listeners.map((listener) => {
        const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
        listener.closeIdleConnections();
        return closed;
      }),
    )
      .then(() => container.close())
      .then(() => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'error while closing stores');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  fail(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
});
