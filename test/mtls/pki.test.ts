import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config.js';
import { loadPki } from '../../src/pki/pki.js';
import { freePort, spawnTessera } from '../support/process.js';
import { tempDir } from '../support/tessera.js';
import { send } from '../support/tls.js';

const run = promisify(execFile);

const configFor = (env: Record<string, string>) => loadConfig({ MTLS_PORT: '3443', ...env });

/** Makes a self-signed certificate and its unencrypted key with `openssl req -x509`. */
async function selfSigned(
  files: { key: string; cert: string },
  subject: string,
  options: { ec?: boolean; days?: number; extensions?: string[] } = {},
): Promise<void> {
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    ...(options.ec ? ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['rsa:2048']),
    '-nodes',
    '-keyout',
    files.key,
    '-out',
    files.cert,
    '-days',
    String(options.days ?? 1),
    '-subj',
    subject,
    ...(options.extensions ?? []).flatMap((extension) => ['-addext', extension]),
  ]);
}

describe('client CA and server certificate', () => {
  const scratch = tempDir('tessera-pki-');
  after(() => scratch.remove());
  let n = 0;
  const fresh = () => path.join(scratch.dir, `case-${(n += 1)}`);

  it('generates both pairs on first start under TESSERA_CERTS_DIR, keys readable by the owner only', async () => {
    const certsDir = fresh();
    const pki = await loadPki(configFor({ TESSERA_CERTS_DIR: certsDir }));
    assert.deepEqual(pki.generated.map((file) => path.relative(certsDir, file)).sort(), [
      'client-ca/cert.pem',
      'client-ca/key.pem',
      'server/cert.pem',
      'server/key.pem',
    ]);
    for (const dir of ['client-ca', 'server']) {
      assert.equal(statSync(path.join(certsDir, dir, 'key.pem')).mode & 0o777, 0o600);
    }
    assert.deepEqual(readdirSync(certsDir).sort(), ['client-ca', 'server'], 'no staging folders left behind');
    const ca = pki.clientCa.cert;
    assert.equal(ca.ca, true);
    assert.match(ca.subject, /CN=Tessera client CA [0-9a-f]{8}/);
    const server = new X509Certificate(pki.serverTls!.cert);
    assert.ok(server.checkHost('localhost'));
    assert.ok(server.checkIP('127.0.0.1'));
    assert.ok(server.checkIP('::1'));
  });

  it('reuses the generated pairs on every later start', async () => {
    const certsDir = fresh();
    const first = await loadPki(configFor({ TESSERA_CERTS_DIR: certsDir }));
    const second = await loadPki(configFor({ TESSERA_CERTS_DIR: certsDir }));
    assert.deepEqual(second.generated, []);
    assert.equal(second.clientCa.certPem, first.clientCa.certPem);
    assert.equal(second.serverTls!.key, first.serverTls!.key);
  });

  it('ends with one CA when several processes start together on an empty folder', async () => {
    const certsDir = fresh();
    const all = await Promise.all(
      [1, 2, 3, 4].map(() => loadPki(configFor({ TESSERA_CERTS_DIR: certsDir }))),
    );
    assert.equal(new Set(all.map((pki) => pki.clientCa.certPem)).size, 1);
    assert.equal(new Set(all.map((pki) => pki.serverTls!.cert)).size, 1);
    assert.deepEqual(readdirSync(certsDir).sort(), ['client-ca', 'server']);
  });

  it('generates no server pair when MTLS_PORT is 0', async () => {
    const certsDir = fresh();
    const pki = await loadPki(configFor({ TESSERA_CERTS_DIR: certsDir, MTLS_PORT: '0' }));
    assert.equal(pki.serverTls, undefined);
    assert.deepEqual(readdirSync(certsDir), ['client-ca']);
  });

  it('uses an operator CA and server pair made with openssl, and issues certificates openssl verifies', async () => {
    const dir = fresh();
    const f = (name: string) => path.join(scratch.dir, `${path.basename(dir)}-${name}`);
    await selfSigned({ key: f('ca.key'), cert: f('ca.crt') }, '/O=Example/CN=Example client CA', {
      days: 30,
      extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
    });
    await selfSigned({ key: f('tls.key'), cert: f('tls.crt') }, '/CN=auth.example.com', {
      ec: true,
      days: 30,
    });
    const pki = await loadPki(
      configFor({
        TESSERA_CERTS_DIR: dir,
        TESSERA_CLIENT_CA_CERT: f('ca.crt'),
        TESSERA_CLIENT_CA_KEY: f('ca.key'),
        TESSERA_TLS_CERT: f('tls.crt'),
        TESSERA_TLS_KEY: f('tls.key'),
      }),
    );
    assert.deepEqual(pki.generated, []);
    assert.match(pki.clientCa.cert.subject, /CN=Example client CA/);
    const issued = await pki.clientCa.issue('client-123');
    // The CA's validity caps the certificate's.
    assert.equal(issued.not_after, new Date(pki.clientCa.cert.validTo).toISOString());
    writeFileSync(f('leaf.crt'), issued.certificate_pem);
    const { stdout } = await run('openssl', [
      'verify',
      '-purpose',
      'sslclient',
      '-CAfile',
      f('ca.crt'),
      f('leaf.crt'),
    ]);
    assert.match(stdout, /leaf\.crt: OK/);
    assert.ok(pki.clientCa.signed(new X509Certificate(issued.certificate_pem)));
  });

  it('stops with a clear line for a key that does not fit, a CA that is not one, or a file that is not PEM', async () => {
    const base = path.join(scratch.dir, 'bad');
    await selfSigned({ key: `${base}-a.key`, cert: `${base}-a.crt` }, '/CN=a', {
      extensions: ['basicConstraints=critical,CA:TRUE'],
    });
    await selfSigned({ key: `${base}-b.key`, cert: `${base}-b.crt` }, '/CN=b', {
      extensions: ['basicConstraints=critical,CA:FALSE'],
    });
    await selfSigned({ key: `${base}-ec.key`, cert: `${base}-ec.crt` }, '/CN=ec', {
      ec: true,
      extensions: ['basicConstraints=critical,CA:TRUE'],
    });
    writeFileSync(`${base}-junk.pem`, 'hello');
    const cases: [Record<string, string>, string][] = [
      [
        { TESSERA_CLIENT_CA_CERT: `${base}-a.crt`, TESSERA_CLIENT_CA_KEY: `${base}-b.key` },
        'TESSERA_CLIENT_CA_KEY: is not the key of TESSERA_CLIENT_CA_CERT',
      ],
      [
        { TESSERA_CLIENT_CA_CERT: `${base}-b.crt`, TESSERA_CLIENT_CA_KEY: `${base}-b.key` },
        'TESSERA_CLIENT_CA_CERT: is not a CA certificate (basicConstraints CA:TRUE)',
      ],
      [
        { TESSERA_CLIENT_CA_CERT: `${base}-ec.crt`, TESSERA_CLIENT_CA_KEY: `${base}-ec.key` },
        'TESSERA_CLIENT_CA_KEY: must be an RSA key',
      ],
      [
        { TESSERA_CLIENT_CA_CERT: `${base}-junk.pem`, TESSERA_CLIENT_CA_KEY: `${base}-a.key` },
        'TESSERA_CLIENT_CA_CERT: is not a PEM certificate',
      ],
      [
        { TESSERA_TLS_CERT: `${base}-a.crt`, TESSERA_TLS_KEY: `${base}-junk.pem` },
        'TESSERA_TLS_KEY: is not an unencrypted PEM private key',
      ],
      [
        { TESSERA_TLS_CERT: `${base}-a.crt`, TESSERA_TLS_KEY: `${base}-b.key` },
        'TESSERA_TLS_KEY: is not the key of TESSERA_TLS_CERT',
      ],
    ];
    for (const [env, message] of cases) {
      await assert.rejects(loadPki(configFor({ TESSERA_CERTS_DIR: fresh(), ...env })), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message, message);
        return true;
      });
    }
  });
});

describe('the mTLS listener of a real process', () => {
  const data = tempDir('tessera-mtls-proc-');
  after(() => data.remove());

  it('generates its key material once, listens on MTLS_PORT and advertises it', async () => {
    const certsDir = path.join(data.dir, 'certs');
    const env = {
      TESSERA_DATA_DIR: path.join(data.dir, 'data'),
      TESSERA_CERTS_DIR: certsDir,
      MTLS_PORT: String(await freePort()),
    };
    const first = await spawnTessera(env);
    try {
      assert.match(first.stdout(), /"msg":"generated development key material"/);
      const meta = (await (await fetch(`${first.url}/.well-known/oauth-authorization-server`)).json()) as {
        mtls_endpoint_aliases: Record<string, string>;
      };
      assert.equal(
        meta.mtls_endpoint_aliases.token_endpoint,
        `https://localhost:${env.MTLS_PORT}/oauth/token`,
      );
      const ca = readFileSync(path.join(certsDir, 'server/cert.pem'), 'utf8');
      const health = await send(`https://localhost:${env.MTLS_PORT}/healthz`, { ca });
      assert.deepEqual(health, { status: 200, headers: health.headers, body: { status: 'ok' } });
    } finally {
      assert.equal(await first.stop(), 0);
    }
    const second = await spawnTessera(env);
    try {
      assert.doesNotMatch(second.stdout(), /generated development key material/);
    } finally {
      await second.stop();
    }
  });
});
