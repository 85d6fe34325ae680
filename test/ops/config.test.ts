import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { exited, freePort } from '../support/process.js';
import { tempDir } from '../support/tessera.js';

describe('configuration', () => {
  it('has the contract defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.mtlsPort, 3443);
    assert.equal(config.issuer, 'http://localhost:3000');
    assert.equal(config.dataDir, path.resolve('data'));
    assert.equal(config.certsDir, path.resolve('certs'));
    assert.equal(config.workers, 1);
    assert.equal(loadConfig({ TESSERA_WORKERS: 'auto' }).workers, availableParallelism());
    assert.equal(loadConfig({ TESSERA_WORKERS: '3' }).workers, 3);
    assert.equal(config.accessTokenTtl, 3600);
    assert.equal(config.maxAccessTokenTtl, 86400);
    assert.equal(config.maxClientsPerAccount, 100);
    assert.deepEqual(config.extraScopes, ['api:read', 'api:write']);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.mongodbUri, undefined);
    assert.equal(config.redisUrl, undefined);
    assert.ok(Object.isFrozen(config));
  });

  it('derives the issuer from PORT and trims a trailing slash from ISSUER', () => {
    assert.equal(loadConfig({ PORT: '8080' }).issuer, 'http://localhost:8080');
    assert.equal(loadConfig({ ISSUER: 'https://auth.example.com/' }).issuer, 'https://auth.example.com');
  });

  const bad: [Record<string, string>, string][] = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ MTLS_PORT: '-1' }, 'MTLS_PORT'],
    [{ TESSERA_WORKERS: '0' }, 'TESSERA_WORKERS'],
    [{ TESSERA_WORKERS: 'many' }, 'TESSERA_WORKERS'],
    [{ ISSUER: 'not a url' }, 'ISSUER'],
    [{ ISSUER: 'ftp://auth.example.com' }, 'ISSUER'],
    [{ ISSUER: 'https://auth.example.com/?x=1' }, 'ISSUER'],
    [{ MONGODB_URI: 'http://db' }, 'MONGODB_URI'],
    [{ MONGODB_URI: 'mongodb://db/tessera' }, 'TESSERA_SECRETS_KEY'],
    [{ TESSERA_SECRETS_KEY: 'too-short' }, 'TESSERA_SECRETS_KEY'],
    [{ TESSERA_SECRETS_KEY: `${'a0'.repeat(32)},${'b'.repeat(42)}` }, 'TESSERA_SECRETS_KEY'],
    [{ TESSERA_KEY_ROTATION_DAYS: '0' }, 'TESSERA_KEY_ROTATION_DAYS'],
    [{ TESSERA_KEY_ROTATION_DAYS: '366' }, 'TESSERA_KEY_ROTATION_DAYS'],
    [{ REDIS_URL: 'memcached://x' }, 'REDIS_URL'],
    [{ TESSERA_ACCESS_TOKEN_TTL: '59' }, 'TESSERA_ACCESS_TOKEN_TTL'],
    [{ TESSERA_ACCESS_TOKEN_TTL: '1.5' }, 'TESSERA_ACCESS_TOKEN_TTL'],
    [{ TESSERA_ACCESS_TOKEN_TTL: '7200', TESSERA_MAX_ACCESS_TOKEN_TTL: '3600' }, 'TESSERA_ACCESS_TOKEN_TTL'],
    [{ TESSERA_MAX_ACCESS_TOKEN_TTL: '10' }, 'TESSERA_MAX_ACCESS_TOKEN_TTL'],
    [{ TESSERA_MAX_CLIENTS_PER_ACCOUNT: '0' }, 'TESSERA_MAX_CLIENTS_PER_ACCOUNT'],
    [{ TESSERA_SCOPES: 'good "bad"' }, 'TESSERA_SCOPES'],
    [{ TESSERA_ADMIN_CLIENT_SECRET: 'short' }, 'TESSERA_ADMIN_CLIENT_SECRET'],
    [{ TESSERA_ADMIN_PASSWORD: 'short' }, 'TESSERA_ADMIN_PASSWORD'],
    [{ TESSERA_TLS_CERT: '/nonexistent/cert.pem' }, 'TESSERA_TLS_KEY'],
    [
      { TESSERA_TLS_CERT: '/nonexistent/cert.pem', TESSERA_TLS_KEY: '/nonexistent/key.pem' },
      'TESSERA_TLS_CERT',
    ],
    [{ TESSERA_CLIENT_CA_KEY: '/nonexistent/ca.key' }, 'TESSERA_CLIENT_CA_CERT'],
    [{ TESSERA_MTLS_PROXY_HEADER: 'x-ssl-client-cert' }, 'TESSERA_TRUSTED_PROXIES'],
    [
      { TESSERA_MTLS_PROXY_HEADER: 'bad header', TESSERA_TRUSTED_PROXIES: '10.0.0.1' },
      'TESSERA_MTLS_PROXY_HEADER',
    ],
    [{ TESSERA_TRUSTED_PROXIES: '10.0.0.0/33' }, 'TESSERA_TRUSTED_PROXIES'],
    [{ TESSERA_TRUSTED_PROXIES: '10.0.0.1, banana' }, 'TESSERA_TRUSTED_PROXIES'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ TESSERA_JWT_ALG: 'HS256' }, 'TESSERA_JWT_ALG'],
  ];
  for (const [env, variable] of bad) {
    it(`refuses ${JSON.stringify(env)} naming ${variable}`, () => {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.variable === variable &&
          error.message.startsWith(`${variable}: `),
      );
    });
  }

  it('parses trusted proxies as addresses and CIDR ranges', () => {
    const config = loadConfig({
      TESSERA_MTLS_PROXY_HEADER: 'X-SSL-Client-Cert',
      TESSERA_TRUSTED_PROXIES: '10.0.0.0/8, ::1, 192.168.1.7',
    });
    assert.equal(config.mtlsProxyHeader, 'x-ssl-client-cert');
    assert.equal(config.trustedProxies.check('10.20.30.40', 'ipv4'), true);
    assert.equal(config.trustedProxies.check('11.0.0.1', 'ipv4'), false);
    assert.equal(config.trustedProxies.check('::1', 'ipv6'), true);
    assert.equal(config.trustedProxies.check('192.168.1.8', 'ipv4'), false);
  });

  async function runMain(env: Record<string, string>) {
    const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/main.js');
    const data = tempDir();
    const child = spawn(process.execPath, [main], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(await freePort()),
        TESSERA_DATA_DIR: data.dir,
        TESSERA_CERTS_DIR: path.join(data.dir, 'certs'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await exited(child);
    data.remove();
    return { code, stdout, lines: stderr.split('\n').filter((l) => l && !l.includes('Unsupported runtime')) };
  }

  it('stops the process with one line naming the variable, before listening', async () => {
    const run = await runMain({ TESSERA_ACCESS_TOKEN_TTL: 'soon' });
    assert.equal(run.code, 1);
    assert.deepEqual(run.lines, [
      'tessera: invalid setting TESSERA_ACCESS_TOKEN_TTL: must be a whole number, got "soon"',
    ]);
    assert.equal(run.stdout, '');
  });

  it('stops with one line naming the scope catalog or the provisioning file and its bad field', async () => {
    const files = tempDir();
    try {
      const catalog = path.join(files.dir, 'scopes.json');
      writeFileSync(catalog, JSON.stringify({ scopes: [{ name: 'api', implies: ['api:read'] }] }));
      const scopes = await runMain({ TESSERA_SCOPES_FILE: catalog });
      assert.equal(scopes.code, 1);
      assert.deepEqual(scopes.lines, [
        `tessera: invalid setting TESSERA_SCOPES_FILE: ${catalog}: scope "api": implies unknown scope "api:read"`,
      ]);
      const provision = path.join(files.dir, 'provision.json');
      writeFileSync(provision, JSON.stringify({ accounts: [{ id: 'acme', name: 'Acme', max_clients: 0 }] }));
      const provisioned = await runMain({ TESSERA_PROVISION_FILE: provision });
      assert.equal(provisioned.code, 1);
      assert.equal(provisioned.lines.length, 1);
      assert.match(
        provisioned.lines[0]!,
        /^tessera: invalid setting TESSERA_PROVISION_FILE: .+provision\.json: accounts\[0\]\.max_clients: /,
      );
      assert.equal(
        provisioned.stdout.includes('BOOTSTRAP'),
        true,
        'the bootstrap ran, then the start stopped',
      );
    } finally {
      files.remove();
    }
  });

  it('stops with one line naming the store setting when that store cannot be reached', async () => {
    const port = await freePort();
    const run = await runMain({ REDIS_URL: `redis://127.0.0.1:${port}` });
    assert.equal(run.code, 1);
    assert.equal(run.lines.length, 1);
    assert.match(run.lines[0]!, /^tessera: invalid setting REDIS_URL: cannot connect to Redis \(/);
  });

  it('stops with one line when the mTLS key does not belong to the certificate', async () => {
    const files = tempDir();
    try {
      for (const name of ['one', 'two']) {
        await promisify(execFile)('openssl', [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          `/CN=${name}`,
          '-keyout',
          path.join(files.dir, `${name}.key`),
          '-out',
          path.join(files.dir, `${name}.crt`),
        ]);
      }
      const run = await runMain({
        MTLS_PORT: String(await freePort()),
        TESSERA_TLS_CERT: path.join(files.dir, 'one.crt'),
        TESSERA_TLS_KEY: path.join(files.dir, 'two.key'),
      });
      assert.equal(run.code, 1);
      assert.deepEqual(run.lines, [
        'tessera: invalid setting TESSERA_TLS_KEY: is not the key of TESSERA_TLS_CERT',
      ]);
    } finally {
      files.remove();
    }
  });
});
