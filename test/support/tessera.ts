import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createContainer, type Container, type Stores } from '../../src/container.js';
import type { NewClient } from '../../src/clients/client-service.js';
import { createLogger } from '../../src/logger.js';
import type { Credentials } from './oauth.js';
import { TEST_CERTS_DIR } from './process.js';

/** A temporary data directory, removed by the returned function. */
export function tempDir(prefix = 'tessera-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunningTessera {
  url: string;
  /** `https://127.0.0.1:<port>` of the mTLS listener, when started with `mtls: true`. */
  mtlsUrl: string | undefined;
  container: Container;
  /** Every log line written so far, raw. */
  logs: string[];
  close(): Promise<void>;
}

/**
 * Starts Tessera in this process on a free port (port 0), with the issuer set to the address it
 * really listens on, and captures its log output.
 */
export async function startTessera(
  options: {
    env?: Record<string, string>;
    dataDir?: string;
    stores?: (dataDir: string) => Stores | Promise<Stores>;
    /** Also start the mTLS listener (on a free port). */
    mtls?: boolean;
    /** The clock secret overlaps are measured by. */
    now?: () => number;
    /** How often the key ring is looked at (default: as in production). */
    keyRingPollMs?: number;
  } = {},
): Promise<RunningTessera> {
  const ownDir = options.dataDir ? undefined : tempDir();
  const dataDir = options.dataDir ?? ownDir!.dir;
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  // The TLS context comes from the container, which needs the real port first.
  let mtlsServer: HttpsServer | undefined;
  let mtlsPort = 0;
  if (options.mtls) {
    mtlsServer = createHttpsServer({ requestCert: true, rejectUnauthorized: false });
    await new Promise<void>((resolve) => mtlsServer!.listen(0, '127.0.0.1', resolve));
    mtlsPort = (mtlsServer.address() as { port: number }).port;
  }
  const config = loadConfig({
    TESSERA_ADMIN_CLIENT_SECRET: 'test-admin-secret-that-is-long-enough-0123456789',
    TESSERA_ADMIN_PASSWORD: 'test-admin-password',
    TESSERA_CERTS_DIR: TEST_CERTS_DIR,
    ...options.env,
    MTLS_PORT: String(mtlsPort),
    PORT: String(port),
    ISSUER: url,
    TESSERA_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger('info', sink);
  let container: Container;
  try {
    container = await createContainer(config, logger, await options.stores?.(dataDir), {
      ...(options.now ? { now: options.now } : {}),
      ...(options.keyRingPollMs ? { keyRingPollMs: options.keyRingPollMs } : {}),
      env: { ...options.env },
    });
  } catch (error) {
    // A start that fails (a bad setting) leaves nothing listening behind.
    for (const listener of [server, mtlsServer]) listener?.close();
    ownDir?.remove();
    throw error;
  }
  const callback = container.listener;
  server.on('request', callback);
  if (mtlsServer) {
    mtlsServer.setSecureContext(container.mtlsServerOptions!);
    mtlsServer.on('request', callback);
  }
  return {
    url,
    mtlsUrl: mtlsServer ? `https://127.0.0.1:${mtlsPort}` : undefined,
    container,
    logs,
    async close() {
      for (const listener of [server, mtlsServer]) {
        if (!listener) continue;
        listener.closeAllConnections();
        await new Promise<void>((resolve) => listener.close(() => resolve()));
      }
      await container.close();
      ownDir?.remove();
    },
  };
}

/**
 * Registers a client-credentials client through the client service (the admin API comes later)
 * and returns the credentials a caller would hold.
 */
export async function registerMachine(
  tessera: RunningTessera,
  overrides: Partial<NewClient> & { client_name: string },
): Promise<Credentials> {
  const { client, secret } = await tessera.container.clients.create({
    account_id: 'default',
    grant_types: ['client_credentials'],
    scope: 'api:read',
    token_endpoint_auth_method: 'client_secret_basic',
    ...overrides,
  });
  return {
    clientId: client.client_id,
    secret: secret!,
    method: client.token_endpoint_auth_method === 'client_secret_post' ? 'post' : 'basic',
  };
}
