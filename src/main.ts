import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { formatGeneratedCredentials } from './bootstrap.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createContainer } from './container.js';
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

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`invalid setting ${error.message}`);
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let container;
  try {
    container = await createContainer(config, logger);
  } catch (error) {
    if (error instanceof ConfigError) fail(`invalid setting ${error.message}`);
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

  const callback = container.app.callback();
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

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    const listeners = [server, mtlsServer].filter((listener) => listener !== undefined);
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
