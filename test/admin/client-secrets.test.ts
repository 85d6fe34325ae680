import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashSecret } from '../../src/crypto/secrets.js';
import { clientRecord } from '../adapters/client-store-contract.js';
import { adminHarness, api, credentialsOf } from '../support/admin.js';
import { ADMIN, clientCredentials, introspect, type Credentials } from '../support/oauth.js';

interface ListedSecret {
  id: string;
  label: string | null;
  hint: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

describe('several secrets per client', () => {
  // The clock secret expiries are measured by; the test moves it instead of waiting.
  let clock = Date.parse('2026-12-07T10:00:00.000Z');
  const h = adminHarness({ now: () => clock });

  const register = async (name: string, fields: Record<string, unknown> = {}): Promise<Credentials> =>
    credentialsOf(
      await api(h.tessera, h.token, 'POST', '/clients', { client_name: name, scope: 'api:read', ...fields }),
    );
  const status = async (creds: Credentials) => (await clientCredentials(h.tessera.url, creds)).status;
  const listed = async (clientId: string): Promise<ListedSecret[]> => {
    const res = await api(h.tessera, h.token, 'GET', `/clients/${clientId}/secrets`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body), ['data']);
    return res.body.data as ListedSecret[];
  };
  const add = (clientId: string, body?: unknown) =>
    api(h.tessera, h.token, 'POST', `/clients/${clientId}/secrets`, body);

  it('lists the working secrets newest first, never the secret; adds one shown once, the others kept', async () => {
    const creds = await register('two secrets');
    const [first] = await listed(creds.clientId);
    assert.deepEqual(Object.keys(first!), [
      'id',
      'label',
      'hint',
      'created_at',
      'expires_at',
      'last_used_at',
    ]);
    assert.deepEqual(
      { ...first, id: '' },
      {
        id: '',
        label: null,
        hint: creds.secret.slice(0, 4),
        created_at: new Date(clock).toISOString(),
        expires_at: null,
        last_used_at: null,
      },
    );

    clock += 1000;
    const added = await add(creds.clientId, { label: 'deploy 42', expires_in: 3600 });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.deepEqual(Object.keys(added.body), ['secret', 'client_secret']);
    const secret = String(added.body.client_secret);
    assert.ok(Buffer.from(secret, 'base64url').length >= 32, 'at least 256 bits');
    const expected = {
      id: (added.body.secret as ListedSecret).id,
      label: 'deploy 42',
      hint: secret.slice(0, 4),
      created_at: new Date(clock).toISOString(),
      expires_at: new Date(clock + 3_600_000).toISOString(),
      last_used_at: null,
    };
    assert.deepEqual(added.body.secret, expected);
    const all = await listed(creds.clientId);
    assert.deepEqual(all, [expected, first]);
    assert.ok(!JSON.stringify(all).includes(secret) && !JSON.stringify(all).includes('$argon2'));

    assert.equal(await status(creds), 200, 'the first secret keeps working');
    assert.equal(await status({ ...creds, secret }), 200);
    // The view's overlap field names only older secrets that expire: the newest does, not them.
    const view = await api(h.tessera, h.token, 'GET', `/clients/${creds.clientId}`);
    assert.equal(view.body.previous_secret_expires_at, null);
    const audit = await api(h.tessera, h.token, 'GET', `/audit?target=client:${creds.clientId}`);
    const [entry] = audit.body.data as { action: string; details: unknown }[];
    assert.deepEqual(
      [entry!.action, entry!.details],
      ['client.secret.add', { secret_id: expected.id, label: 'deploy 42', expires_at: expected.expires_at }],
    );
  });

  it('lets a secret expire at exactly its expiry, on the cached path too, and lists it no more', async () => {
    const creds = await register('expiring');
    const added = await add(creds.clientId, { expires_in: 60 });
    const short = { ...creds, secret: String(added.body.client_secret) };
    assert.equal(await status(short), 200, 'verified and cached');
    clock += 59_999;
    assert.equal(await status(short), 200);
    clock += 1;
    const refused = await clientCredentials(h.tessera.url, short);
    assert.deepEqual([refused.status, refused.body.error], [401, 'invalid_client']);
    assert.equal((await listed(creds.clientId)).length, 1);
    assert.equal(await status(creds), 200);
  });

  it('holds at most 5 working secrets: a sixth is 409 limit_exceeded, rotation is never refused', async () => {
    const creds = await register('five');
    for (let i = 2; i <= 5; i += 1) assert.equal((await add(creds.clientId, { label: `s${i}` })).status, 201);
    const sixth = await add(creds.clientId, { label: 's6' });
    assert.deepEqual(sixth, {
      status: 409,
      headers: sixth.headers,
      body: {
        error: 'limit_exceeded',
        error_description: 'a client holds at most 5 working secrets; delete one first',
      },
    });
    assert.equal((await listed(creds.clientId)).length, 5);
    const rotated = await api(h.tessera, h.token, 'POST', `/clients/${creds.clientId}/secret`, {
      previous_secret_expires_in: 600,
    });
    assert.equal(rotated.status, 200);
    assert.equal((await listed(creds.clientId)).length, 6, 'five in an overlap and the new one');
    assert.equal((await add(creds.clientId)).status, 409, 'secrets in an overlap count');
    clock += 600_000;
    assert.equal((await listed(creds.clientId)).length, 1);
    assert.equal((await add(creds.clientId)).status, 201, 'expired secrets do not count');
  });

  it('adds secrets racing each other without losing one or passing the limit', async () => {
    const creds = await register('racing');
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => add(creds.clientId, { label: `race ${i}` })),
    );
    const statuses = results.map((res) => res.status).sort();
    assert.deepEqual(statuses, [201, 201, 201, 201, 409, 409]);
    const labels = (await listed(creds.clientId)).map((secret) => secret.label);
    const won = results
      .filter((res) => res.status === 201)
      .map((res) => (res.body.secret as ListedSecret).label);
    assert.deepEqual(labels.filter((label) => label !== null).sort(), won.sort());
    for (const res of results.filter((r) => r.status === 201)) {
      assert.equal(await status({ ...creds, secret: String(res.body.client_secret) }), 200);
    }
  });

  it('deletes one secret: it fails at once though cached, the others work; the last one may go too', async () => {
    const creds = await register('deleting');
    const added = await add(creds.clientId, { label: 'second' });
    const second = { ...creds, secret: String(added.body.client_secret) };
    assert.equal(await status(creds), 200, 'cached');
    const first = (await listed(creds.clientId)).find((secret) => secret.label === null)!;
    const deleted = await api(h.tessera, h.token, 'DELETE', `/clients/${creds.clientId}/secrets/${first.id}`);
    assert.deepEqual([deleted.status, deleted.body], [204, {}]);
    assert.equal(await status(creds), 401);
    assert.equal(await status(second), 200);
    const again = await api(h.tessera, h.token, 'DELETE', `/clients/${creds.clientId}/secrets/${first.id}`);
    assert.deepEqual(
      [again.status, again.body],
      [404, { error: 'not_found', error_description: 'no such secret' }],
    );

    const last = (added.body.secret as ListedSecret).id;
    assert.equal(
      (await api(h.tessera, h.token, 'DELETE', `/clients/${creds.clientId}/secrets/${last}`)).status,
      204,
    );
    assert.deepEqual(await listed(creds.clientId), []);
    assert.equal(await status(second), 401, 'no secret works');
    const audit = await api(h.tessera, h.token, 'GET', `/audit?target=client:${creds.clientId}`);
    assert.deepEqual(
      (audit.body.data as { action: string; details: unknown }[])
        .slice(0, 2)
        .map((e) => [e.action, e.details]),
      [
        ['client.secret.delete', { secret_id: last, label: 'second' }],
        ['client.secret.delete', { secret_id: first.id, label: null }],
      ],
    );
  });

  it('revokes every token of the client with revoke_tokens, on rotation and on delete', async () => {
    const creds = await register('leaked');
    const token = String((await clientCredentials(h.tessera.url, creds)).body.access_token);
    const kept = await api(h.tessera, h.token, 'POST', `/clients/${creds.clientId}/secret`);
    assert.equal((await introspect(h.tessera.url, ADMIN, token)).body.active, true, 'without it tokens live');
    const fresh = { ...creds, secret: String(kept.body.client_secret) };
    const second = String((await clientCredentials(h.tessera.url, fresh)).body.access_token);
    const rotated = await api(h.tessera, h.token, 'POST', `/clients/${creds.clientId}/secret`, {
      revoke_tokens: true,
    });
    assert.equal(rotated.status, 200);
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, token)).body, { active: false });
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, second)).body, { active: false });

    const current = { ...creds, secret: String(rotated.body.client_secret) };
    const third = String((await clientCredentials(h.tessera.url, current)).body.access_token);
    const added = await add(creds.clientId);
    const [newest] = await listed(creds.clientId);
    const deleted = await api(
      h.tessera,
      h.token,
      'DELETE',
      `/clients/${creds.clientId}/secrets/${newest!.id}?revoke_tokens=true`,
    );
    assert.equal(deleted.status, 204);
    assert.deepEqual((await introspect(h.tessera.url, ADMIN, third)).body, { active: false });
    assert.equal(await status({ ...creds, secret: String(added.body.client_secret) }), 401);
    assert.equal(await status(current), 200, 'the other secret still works');
    const audit = await api(h.tessera, h.token, 'GET', `/audit?target=client:${creds.clientId}`);
    assert.deepEqual((audit.body.data as { details: unknown }[])[0]!.details, {
      secret_id: newest!.id,
      label: null,
      revoke_tokens: true,
    });
  });

  it("records each secret's last use, without changing the client's updated_at", async () => {
    const creds = await register('used');
    await add(creds.clientId, { label: 'unused' });
    const before = await api(h.tessera, h.token, 'GET', `/clients/${creds.clientId}`);
    // Uses are timed by the wall clock, like the client's own last_used_at.
    const from = new Date().toISOString();
    assert.equal(await status(creds), 200);
    const until = new Date().toISOString();
    await h.tessera.container.flushUsage();
    const [unused, used] = await listed(creds.clientId);
    assert.deepEqual([unused!.label, unused!.last_used_at, used!.label], ['unused', null, null]);
    assert.ok(used!.last_used_at! >= from && used!.last_used_at! <= until, used!.last_used_at!);
    const after = await api(h.tessera, h.token, 'GET', `/clients/${creds.clientId}`);
    assert.equal(after.body.updated_at, before.body.updated_at);
  });

  it('refuses bad input with 400 invalid_request or 404, and changes nothing', async () => {
    const creds = await register('bad input');
    const before = await listed(creds.clientId);
    const bodies: [unknown, string][] = [
      [{ label: 'x'.repeat(65) }, 'label: must be at most 64 characters'],
      [{ label: '' }, 'label: must not be empty'],
      [{ label: 5 }, 'label: Invalid input: expected string, received number'],
      [{ expires_in: 59 }, 'expires_in: must be between 60 and 315360000 seconds'],
      [{ expires_in: 315360001 }, 'expires_in: must be between 60 and 315360000 seconds'],
      [{ expires_in: 61.5 }, 'expires_in: must be a whole number of seconds'],
      [{ secret: 'mine' }, 'unknown field: secret'],
      [[1], 'the request body must be a JSON object'],
    ];
    for (const [body, description] of bodies) {
      const res = await add(creds.clientId, body);
      assert.deepEqual(
        [res.status, res.body],
        [400, { error: 'invalid_request', error_description: description }],
      );
    }
    const badFlag = await api(
      h.tessera,
      h.token,
      'DELETE',
      `/clients/${creds.clientId}/secrets/${before[0]!.id}?revoke_tokens=yes`,
    );
    assert.deepEqual(
      [badFlag.status, badFlag.body],
      [400, { error: 'invalid_request', error_description: 'revoke_tokens must be true or false' }],
    );
    const badRotate = await api(h.tessera, h.token, 'POST', `/clients/${creds.clientId}/secret`, {
      revoke_tokens: 'yes',
    });
    assert.deepEqual([badRotate.status, badRotate.body.error], [400, 'invalid_request']);
    assert.deepEqual(await listed(creds.clientId), before);
    assert.equal(await status(creds), 200);

    const publicClient = await register('public', {
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example.com/cb'],
    });
    for (const [method, path] of [
      ['GET', 'secrets'],
      ['POST', 'secrets'],
    ] as const) {
      const res = await api(h.tessera, h.token, method, `/clients/${publicClient.clientId}/${path}`);
      assert.deepEqual(
        [res.status, res.body],
        [400, { error: 'invalid_request', error_description: 'a none client has no secrets' }],
      );
    }
    for (const [method, path] of [
      ['GET', '/clients/no-such-client/secrets'],
      ['POST', '/clients/no-such-client/secrets'],
      ['DELETE', `/clients/no-such-client/secrets/${before[0]!.id}`],
      ['DELETE', `/clients/${creds.clientId}/secrets/no-such-secret`],
    ] as const) {
      const res = await api(h.tessera, h.token, method, path);
      assert.equal(res.status, 404, path);
    }
  });

  it('keeps working with a client stored with one secret by an earlier version, and lists it without a hint', async () => {
    const secret = 'an-earlier-versions-secret-0123456789abcdefgh';
    const { secrets: _secrets, ...rest } = clientRecord({ account_id: 'default' });
    const legacy = {
      ...rest,
      secret_hash: await hashSecret(secret),
      previous_secret_hash: null,
      previous_secret_expires_at: null,
    };
    await h.tessera.container.clientStore.createClient(legacy as unknown as ReturnType<typeof clientRecord>);
    const creds = { clientId: legacy.client_id, secret };
    assert.equal(await status(creds), 200);
    const [only] = await listed(creds.clientId);
    assert.deepEqual([only!.hint, only!.label, only!.expires_at], [null, null, null]);
    // The first change stores the list; the earlier secret keeps its id and keeps working.
    assert.equal((await add(creds.clientId, { label: 'new' })).status, 201);
    const after = await listed(creds.clientId);
    assert.deepEqual(
      after.map((s) => s.label),
      ['new', null],
    );
    assert.equal(after[1]!.id, only!.id);
    assert.equal(await status(creds), 200);
  });
});
