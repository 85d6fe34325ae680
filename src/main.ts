import { createServer, type Server } from 'node:http';
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

  const server = createServer(container.app.callback());
  try {
    await listen(server, config.port);
  } catch (error) {
    await container.close();
    fail(`cannot listen on PORT ${config.port}: ${(error as Error).message}`);
  }
  const address = server.address();
  logger.info(
    { port: typeof address === 'object' && address ? address.port : config.port, issuer: config.issuer },
    'tessera listening',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    server.close(() => {
      container
        .close()
        .then(() => {
          logger.info('stopped');
          logger.flush();
          process.exit(0);
        })
        .catch((error: unknown) => {
          logger.error({ err: error }, 'error while closing stores');
          process.exit(1);
        });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  fail(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
});
