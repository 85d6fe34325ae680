import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminHarness, api, credentialsOf } from '../support/admin.js';
import { authorizePath, Browser } from '../support/browser.js';
import { clientCredentials } from '../support/oauth.js';
import { clientRecord } from '../adapters/client-store-contract.js';

const OOB = 'urn:ietf:wg:oauth:2.0:oob';

describe('application_type, require_consent and the oob label', () => {
  const h = adminHarness();

  const create = (body: Record<string, unknown>) => api(h.tessera, h.token, 'POST', '/clients', body);
  const clientOf = (res: { body: Record<string, unknown> }) => res.body.client as Record<string, unknown>;

  it('infers native from a private-use redirect URI, else web, and keeps an explicit type', async () => {
    const native = await create({
      client_name: 'mobile',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      redirect_uris: ['com.example.app:/oauth', 'http://127.0.0.1/cb'],
    });
    assert.equal(native.status, 201, JSON.stringify(native.body));
    assert.equal(clientOf(native).application_type, 'native');
    const web = await create({
      client_name: 'website',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example.com/cb', 'http://localhost:8080/cb'],
    });
    assert.equal(clientOf(web).application_type, 'web');
    const machine = await create({ client_name: 'worker' });
    assert.equal(clientOf(machine).application_type, 'web');
    const desktop = await create({
      client_name: 'desktop',
      application_type: 'native',
      grant_types: ['authorization_code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    });
    assert.equal(clientOf(desktop).application_type, 'native');
    const confidentialNative = await create({
      client_name: 'confidential native',
      grant_types: ['authorization_code'],
      redirect_uris: ['com.example.desk:/cb'],
    });
    assert.equal(
      confidentialNative.status,
      201,
      'a private-use scheme is about the app type, not the auth method',
    );
  });

  it('applies the redirect-URI rules of each type', async () => {
    const refused: [string, Record<string, unknown>, string][] = [
      [
        'a private-use scheme for a web client',
        { application_type: 'web', redirect_uris: ['com.example.app:/cb'] },
        '"com.example.app:/cb": private-use schemes are for native clients only (application_type native)',
      ],
      ['plain http to a host that is not loopback', { redirect_uris: ['http://app.example.com/cb'] }, ''],
      [
        'a claimed https URI on a loopback host for a native client',
        { application_type: 'native', redirect_uris: ['https://localhost/cb'] },
        'redirect_uris for native clients using claimed HTTPS URIs must not be using localhost as hostname',
      ],
      [
        'a type that does not exist',
        { application_type: 'desktop', redirect_uris: ['https://a.example/cb'] },
        '',
      ],
    ];
    for (const [label, fields, description] of refused) {
      const res = await create({ client_name: 'refused', grant_types: ['authorization_code'], ...fields });
      assert.equal(res.status, 400, label);
      const code = label.startsWith('a type') ? 'invalid_client_metadata' : 'invalid_redirect_uri';
      assert.equal(res.body.error, code, `${label}: ${JSON.stringify(res.body)}`);
      if (description) assert.equal(res.body.error_description, description, label);
    }
    const web = await create({
      client_name: 'turns native?',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example.com/cb'],
    });
    const id = String(clientOf(web).client_id);
    const patch = await api(h.tessera, h.token, 'PATCH', `/clients/${id}`, {
      redirect_uris: ['com.example.x:/cb'],
    });
    assert.equal(patch.status, 400, 'a stored web client keeps its type');
    const both = await api(h.tessera, h.token, 'PATCH', `/clients/${id}`, {
      application_type: 'native',
      redirect_uris: ['com.example.x:/cb'],
    });
    assert.equal(both.status, 200, JSON.stringify(both.body));
    assert.equal(both.body.application_type, 'native');
  });

  it('keeps the oob label on a client without authorization_code, and refuses it with that grant', async () => {
    const machine = await create({ client_name: 'labelled', redirect_uris: [OOB], scope: 'api:read' });
    assert.equal(machine.status, 201, JSON.stringify(machine.body));
    assert.deepEqual(clientOf(machine).redirect_uris, [OOB]);
    assert.equal((await clientCredentials(h.tessera.url, credentialsOf(machine))).status, 200);

    const expected = {
      error: 'invalid_redirect_uri',
      error_description: `${OOB} cannot be used with authorization_code; register a loopback redirect such as http://127.0.0.1:8400/callback instead`,
    };
    const code = await create({
      client_name: 'oob code',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      redirect_uris: [OOB],
    });
    assert.equal(code.status, 400);
    assert.deepEqual(code.body, expected);
    const id = String(clientOf(machine).client_id);
    const patch = await api(h.tessera, h.token, 'PATCH', `/clients/${id}`, {
      grant_types: ['client_credentials', 'authorization_code'],
    });
    assert.deepEqual([patch.status, patch.body], [400, expected]);
  });

  it('defaults require_consent to false for first-party clients and true otherwise', async () => {
    const third = await create({ client_name: 'third party' });
    assert.equal(clientOf(third).require_consent, true);
    const first = await create({ client_name: 'first party', first_party: true });
    assert.equal(clientOf(first).require_consent, false);
    const asked = await create({ client_name: 'first but asking', first_party: true, require_consent: true });
    assert.equal(clientOf(asked).require_consent, true);
    const bad = await create({ client_name: 'bad consent', require_consent: 'no' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_client_metadata');
  });

  it('gives clients stored before these fields existed the same inference when they are read', async () => {
    const legacy = clientRecord({
      account_id: 'default',
      client_type: 'public',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      redirect_uris: ['com.example.legacy:/cb'],
      scope: 'openid',
    }) as Partial<ReturnType<typeof clientRecord>> & { secret_hash?: null };
    delete legacy.application_type;
    delete legacy.require_consent;
    delete legacy.secrets;
    legacy.secret_hash = null;
    await h.tessera.container.clientStore.createClient(legacy as ReturnType<typeof clientRecord>);
    const read = await api(h.tessera, h.token, 'GET', `/clients/${legacy.client_id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.application_type, 'native');
    assert.equal(read.body.require_consent, true);
    assert.equal(read.body.previous_secret_expires_at, null);

    // And it still works as the native app it is.
    const page = await new Browser(h.tessera.url).follow(
      authorizePath({
        clientId: String(legacy.client_id),
        redirectUri: 'com.example.legacy:/cb',
        scope: 'openid',
      }),
    );
    assert.equal(page.status, 200);
    assert.match(page.html, /\/login"/);
  });
});
