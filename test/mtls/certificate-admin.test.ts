import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import type { Credentials } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const ISSUED_KEYS = [
  'ca_pem',
  'certificate_pem',
  'not_after',
  'private_key_pem',
  'serial',
  'sha256_thumbprint',
];
const DAY = 86_400_000;

describe('admin API: client certificates', () => {
  let tessera: RunningTessera;
  let root: string;

  before(async () => {
    tessera = await startTessera();
    root = await tokenFor(tessera.url);
  });
  after(async () => tessera.close());

  const createMachine = async (name: string, extra: Record<string, unknown> = {}) => {
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: name,
      token_endpoint_auth_method: 'tls_client_auth',
      scope: 'api:read',
      ...extra,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return String((created.body.client as { client_id: string }).client_id);
  };

  /** Checks one issuance answer against the client CA and the client; returns the parsed certificate. */
  function checkIssued(issued: Record<string, unknown>, clientId: string): X509Certificate {
    assert.deepEqual(Object.keys(issued).sort(), ISSUED_KEYS);
    const cert = new X509Certificate(String(issued.certificate_pem));
    const ca = new X509Certificate(String(issued.ca_pem));
    assert.equal(String(issued.ca_pem), tessera.container.clientCa.certPem);
    assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'signed by the client CA');
    assert.equal(cert.subject, `CN=${clientId}`);
    assert.equal(cert.ca, false);
    assert.ok(cert.checkPrivateKey(createPrivateKey(String(issued.private_key_pem))), 'the key is the pair');
    assert.equal(cert.serialNumber.toLowerCase(), issued.serial);
    assert.match(String(issued.serial), /^[0-9a-f]{32}$/);
    assert.equal(
      cert.fingerprint256.replace(/:/g, '').toLowerCase(),
      Buffer.from(String(issued.sha256_thumbprint), 'base64url').toString('hex'),
    );
    assert.equal(issued.not_after, new Date(cert.validTo).toISOString());
    const lifetime = new Date(cert.validTo).getTime() - Date.now();
    assert.ok(lifetime > 364 * DAY && lifetime <= 365 * DAY, `one year, got ${lifetime / DAY} days`);
    return cert;
  }

  it('issues a key pair and a one-year certificate, records it on the client and audits it', async () => {
    const clientId = await createMachine('cert-issue');
    const res = await api(tessera, root, 'POST', `/clients/${clientId}/certificate`);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.headers.get('cache-control'), 'no-store');
    checkIssued(res.body, clientId);

    const view = await api(tessera, root, 'GET', `/clients/${clientId}`);
    assert.deepEqual(view.body.certificates, [
      {
        serial: res.body.serial,
        sha256_thumbprint: res.body.sha256_thumbprint,
        not_after: res.body.not_after,
        revoked: false,
      },
    ]);
    const audit = (await api(tessera, root, 'GET', '/audit?limit=100')).body.data as Record<
      string,
      unknown
    >[];
    const entry = audit.find(
      (e) => e.action === 'client.certificate.issue' && e.target === `client:${clientId}`,
    );
    assert.deepEqual(entry?.details, {
      serial: res.body.serial,
      sha256_thumbprint: res.body.sha256_thumbprint,
      not_after: res.body.not_after,
    });
    const everything = JSON.stringify(audit) + tessera.logs.join('\n');
    assert.ok(!everything.includes('PRIVATE KEY'), 'no private key in the audit log or the logs');
  });

  it('issues the certificate together with the client when asked to', async () => {
    const created = await api(tessera, root, 'POST', '/clients', {
      client_name: 'cert-on-create',
      token_endpoint_auth_method: 'tls_client_auth',
      scope: 'api:read',
      issue_certificate: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(Object.keys(created.body).sort(), ['certificate', 'client']);
    const client = created.body.client as { client_id: string; certificates: unknown[] };
    const issued = created.body.certificate as Record<string, unknown>;
    checkIssued(issued, client.client_id);
    assert.deepEqual(client.certificates, [
      {
        serial: issued.serial,
        sha256_thumbprint: issued.sha256_thumbprint,
        not_after: issued.not_after,
        revoked: false,
      },
    ]);
    // The key was shown this once: reads never carry it.
    const read = await api(tessera, root, 'GET', `/clients/${client.client_id}`);
    assert.ok(!JSON.stringify(read.body).includes('PRIVATE KEY'));
  });

  it('issues certificates to secret-based clients with bound tokens, and refuses everyone else', async () => {
    const bound = await api(tessera, root, 'POST', '/clients', {
      client_name: 'cert-bound-secret',
      scope: 'api:read',
      tls_client_certificate_bound_access_tokens: true,
      issue_certificate: true,
    });
    assert.equal(bound.status, 201, JSON.stringify(bound.body));
    assert.equal(typeof bound.body.client_secret, 'string');
    assert.equal(typeof (bound.body.certificate as Record<string, unknown>).certificate_pem, 'string');

    const before = (await api(tessera, root, 'GET', '/clients?limit=100')).body.data as unknown[];
    const plain = await api(tessera, root, 'POST', '/clients', {
      client_name: 'cert-plain-secret',
      scope: 'api:read',
      issue_certificate: true,
    });
    assert.equal(plain.status, 400);
    assert.deepEqual(plain.body, {
      error: 'invalid_client_metadata',
      error_description:
        'issue_certificate is for tls_client_auth clients and clients with certificate-bound tokens',
    });
    const afterward = (await api(tessera, root, 'GET', '/clients?limit=100')).body.data as unknown[];
    assert.equal(afterward.length, before.length, 'the refused create stored nothing');

    const secretClient = await api(tessera, root, 'POST', '/clients', {
      client_name: 'cert-none',
      scope: 'api:read',
    });
    const secretId = String((secretClient.body.client as { client_id: string }).client_id);
    const refused = await api(tessera, root, 'POST', `/clients/${secretId}/certificate`);
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body, {
      error: 'invalid_request',
      error_description:
        'a client_secret_basic client without certificate-bound tokens does not use Tessera-issued certificates',
    });
    assert.deepEqual((await api(tessera, root, 'GET', `/clients/${secretId}`)).body.certificates, []);
  });

  it('revokes one certificate by serial, idempotently, and 404s an unknown serial', async () => {
    const clientId = await createMachine('cert-revoke');
    const first = (await api(tessera, root, 'POST', `/clients/${clientId}/certificate`)).body;
    const second = (await api(tessera, root, 'POST', `/clients/${clientId}/certificate`)).body;

    const res = await api(
      tessera,
      root,
      'DELETE',
      `/clients/${clientId}/certificate/${String(first.serial)}`,
    );
    assert.equal(res.status, 204);
    const view = await api(tessera, root, 'GET', `/clients/${clientId}`);
    assert.deepEqual(
      (view.body.certificates as { serial: string; revoked: boolean }[]).map((c) => [c.serial, c.revoked]),
      [
        [first.serial, true],
        [second.serial, false],
      ],
    );
    assert.equal(
      (await api(tessera, root, 'DELETE', `/clients/${clientId}/certificate/${String(first.serial)}`)).status,
      204,
    );

    const unknown = await api(tessera, root, 'DELETE', `/clients/${clientId}/certificate/00ff`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { error: 'not_found', error_description: 'no such certificate' });

    const audit = (await api(tessera, root, 'GET', '/audit?limit=100')).body.data as Record<
      string,
      unknown
    >[];
    const revocations = audit.filter(
      (e) => e.action === 'client.certificate.revoke' && e.target === `client:${clientId}`,
    );
    assert.deepEqual(
      revocations.map((e) => e.details),
      [{ serial: first.serial }],
      'one audit entry for one revocation',
    );
  });

  it('keeps at most ten unexpired certificates, making room by dropping expired and revoked ones', async () => {
    const clientId = await createMachine('cert-cap');
    const serials: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const res = await api(tessera, root, 'POST', `/clients/${clientId}/certificate`);
      assert.equal(res.status, 201);
      serials.push(String(res.body.serial));
    }
    const full = await api(tessera, root, 'POST', `/clients/${clientId}/certificate`);
    assert.equal(full.status, 409);
    assert.deepEqual(full.body, {
      error: 'limit_exceeded',
      error_description: 'a client holds at most 10 unexpired certificates; revoke one first',
    });

    await api(tessera, root, 'DELETE', `/clients/${clientId}/certificate/${serials[3]!}`);
    const roomMade = await api(tessera, root, 'POST', `/clients/${clientId}/certificate`);
    assert.equal(roomMade.status, 201);
    const listed = (await api(tessera, root, 'GET', `/clients/${clientId}`)).body.certificates as {
      serial: string;
    }[];
    assert.equal(listed.length, 10);
    assert.ok(!listed.some((c) => c.serial === serials[3]), 'the revoked one made room');

    // An expired entry is dropped at the next issuance.
    await tessera.container.clientStore.addCertificate(
      clientId,
      {
        serial: 'aa00',
        sha256_thumbprint: 'x',
        not_after: new Date(Date.now() - DAY).toISOString(),
        revoked: false,
      },
      new Date().toISOString(),
    );
    await api(tessera, root, 'DELETE', `/clients/${clientId}/certificate/${serials[4]!}`);
    assert.equal((await api(tessera, root, 'POST', `/clients/${clientId}/certificate`)).status, 201);
    const now = (await api(tessera, root, 'GET', `/clients/${clientId}`)).body.certificates as {
      serial: string;
    }[];
    assert.ok(!now.some((c) => c.serial === 'aa00'));
    assert.equal(now.length, 10);
  });

  it("needs clients:write, and treats another tenant's client as absent", async () => {
    const clientId = await createMachine('cert-tenancy');
    const { serial } = (await api(tessera, root, 'POST', `/clients/${clientId}/certificate`)).body;

    const reader = await api(tessera, root, 'POST', '/clients', {
      client_name: 'cert-reader',
      scope: 'clients:read',
    });
    const readerToken = await tokenFor(tessera.url, {
      clientId: String((reader.body.client as { client_id: string }).client_id),
      secret: String(reader.body.client_secret),
    });
    const denied = await api(tessera, readerToken, 'POST', `/clients/${clientId}/certificate`);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error, 'insufficient_scope');
    assert.equal(
      (await api(tessera, readerToken, 'DELETE', `/clients/${clientId}/certificate/${String(serial)}`))
        .status,
      403,
    );

    const account = await api(tessera, root, 'POST', '/accounts', { name: 'Other tenant' });
    const other: Credentials = {
      clientId: String((account.body.admin_client as { client_id: string }).client_id),
      secret: String((account.body.admin_client as { client_secret: string }).client_secret),
    };
    const otherToken = await tokenFor(tessera.url, other);
    const issue = await api(tessera, otherToken, 'POST', `/clients/${clientId}/certificate`);
    assert.equal(issue.status, 404);
    assert.deepEqual(issue.body, { error: 'not_found', error_description: 'no such client' });
    const revoke = await api(
      tessera,
      otherToken,
      'DELETE',
      `/clients/${clientId}/certificate/${String(serial)}`,
    );
    assert.equal(revoke.status, 404);
    const view = await api(tessera, root, 'GET', `/clients/${clientId}`);
    assert.equal((view.body.certificates as { revoked: boolean }[])[0]!.revoked, false);
  });

  it('refuses issue_certificate in a PATCH', async () => {
    const clientId = await createMachine('cert-patch');
    const res = await api(tessera, root, 'PATCH', `/clients/${clientId}`, { issue_certificate: true });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, {
      error: 'invalid_client_metadata',
      error_description: 'unknown field: issue_certificate',
    });
  });

  it('offers the client CA certificate for download', async () => {
    const res = await fetch(`${tessera.url}/admin/api/client-ca`, {
      headers: { authorization: `Bearer ${root}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-pem-file');
    const pem = await res.text();
    assert.equal(pem, tessera.container.clientCa.certPem);
    assert.equal(new X509Certificate(pem).ca, true);
    assert.ok(!pem.includes('PRIVATE KEY'));
    assert.equal((await fetch(`${tessera.url}/admin/api/client-ca`)).status, 401);
  });
});
