import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminHarness, api, credentialsOf } from '../support/admin.js';
import { clientCredentials, type Credentials } from '../support/oauth.js';

describe('secret rotation with an overlap', () => {
  // The clock overlaps are measured by; the test moves it instead of waiting.
  let clock = Date.parse('2026-12-02T10:00:00.000Z');
  const h = adminHarness({ now: () => clock });

  const register = async (name: string): Promise<Credentials> => {
    const created = await api(h.tessera, h.token, 'POST', '/clients', {
      client_name: name,
      scope: 'api:read',
    });
    assert.equal(created.status, 201);
    return credentialsOf(created);
  };
  const status = async (creds: Credentials) => (await clientCredentials(h.tessera.url, creds)).status;
  const view = async (clientId: string) =>
    (await api(h.tessera, h.token, 'GET', `/clients/${clientId}`)).body;
  /** The ids of the client's working secrets, newest first. */
  const secretIds = async (clientId: string) =>
    (
      (await api(h.tessera, h.token, 'GET', `/clients/${clientId}/secrets`)).body.data as { id: string }[]
    ).map((secret) => secret.id);
  const auditOf = async (clientId: string) =>
    (
      (await api(h.tessera, h.token, 'GET', `/audit?target=client:${clientId}`)).body.data as Record<
        string,
        unknown
      >[]
    ).map((entry) => [entry.action, entry.details]);

  it('keeps the old secret working until previous_secret_expires_at, exactly, and never longer', async () => {
    const old = await register('overlap');
    assert.equal(await status(old), 200, 'the old secret is verified and cached');
    const rotated = await api(h.tessera, h.token, 'POST', `/clients/${old.clientId}/secret`, {
      previous_secret_expires_in: 60,
    });
    assert.equal(rotated.status, 200);
    assert.deepEqual(Object.keys(rotated.body), ['client_secret']);
    const fresh = { ...old, secret: String(rotated.body.client_secret) };
    const expiresAt = new Date(clock + 60_000).toISOString();
    assert.equal((await view(old.clientId)).previous_secret_expires_at, expiresAt);

    assert.equal(await status(old), 200);
    assert.equal(await status(fresh), 200);
    clock += 59_999;
    assert.equal(await status(old), 200, 'one millisecond before the expiry');
    assert.equal((await view(old.clientId)).previous_secret_expires_at, expiresAt);
    clock += 1;
    const refused = await clientCredentials(h.tessera.url, old);
    assert.deepEqual([refused.status, refused.body.error], [401, 'invalid_client'], 'at the expiry');
    assert.equal((await view(old.clientId)).previous_secret_expires_at, null);
    assert.equal(await status(fresh), 200);
    const [newest] = await secretIds(old.clientId);
    assert.deepEqual(await auditOf(old.clientId), [
      [
        'client.secret.rotate',
        { secret_id: newest, secret_version: 2, previous_secret_expires_at: expiresAt },
      ],
      [
        'client.create',
        { client_name: 'overlap', token_endpoint_auth_method: 'client_secret_basic', scope: 'api:read' },
      ],
    ]);
  });

  it('ends the overlap at once with DELETE /clients/{id}/secret/previous, audited', async () => {
    const old = await register('ended early');
    const rotated = await api(h.tessera, h.token, 'POST', `/clients/${old.clientId}/secret`, {
      previous_secret_expires_in: 86400,
    });
    const fresh = { ...old, secret: String(rotated.body.client_secret) };
    assert.equal(await status(old), 200);
    const previous = (await secretIds(old.clientId))[1];
    const ended = await api(h.tessera, h.token, 'DELETE', `/clients/${old.clientId}/secret/previous`);
    assert.equal(ended.status, 204);
    assert.equal(await status(old), 401, 'even though it was cached');
    assert.equal(await status(fresh), 200);
    assert.equal((await view(old.clientId)).previous_secret_expires_at, null);
    assert.deepEqual((await auditOf(old.clientId))[0], [
      'client.secret.previous.revoke',
      { previous_secret_expires_at: new Date(clock + 86_400_000).toISOString(), secret_ids: [previous] },
    ]);
    // Nothing left to end: still 204, and no further entry.
    const again = await api(h.tessera, h.token, 'DELETE', `/clients/${old.clientId}/secret/previous`);
    assert.equal(again.status, 204);
    assert.equal((await auditOf(old.clientId)).length, 3);
  });

  it('ends every other secret after the overlap, never later than it would have ended; without one at once', async () => {
    const first = await register('twice');
    const second = await api(h.tessera, h.token, 'POST', `/clients/${first.clientId}/secret`, {
      previous_secret_expires_in: 600,
    });
    clock += 1000;
    const third = await api(h.tessera, h.token, 'POST', `/clients/${first.clientId}/secret`, {
      previous_secret_expires_in: 3600,
    });
    const listed = (await api(h.tessera, h.token, 'GET', `/clients/${first.clientId}/secrets`)).body.data as {
      expires_at: string | null;
    }[];
    assert.deepEqual(
      listed.map((secret) => secret.expires_at),
      [null, new Date(clock + 3_600_000).toISOString(), new Date(clock - 1000 + 600_000).toISOString()],
      'the second overlap ends in an hour; the first still ends as it would have',
    );
    assert.equal((await view(first.clientId)).previous_secret_expires_at, listed[1]!.expires_at);
    assert.equal(await status(first), 200, 'the first secret still works, in its own overlap');
    assert.equal(await status({ ...first, secret: String(second.body.client_secret) }), 200);
    assert.equal(await status({ ...first, secret: String(third.body.client_secret) }), 200);
    const plain = await api(h.tessera, h.token, 'POST', `/clients/${first.clientId}/secret`);
    assert.equal(
      await status({ ...first, secret: String(third.body.client_secret) }),
      401,
      'no overlap asked',
    );
    assert.equal(await status({ ...first, secret: String(plain.body.client_secret) }), 200);
    assert.equal((await view(first.clientId)).previous_secret_expires_at, null);
  });

  it('refuses an overlap outside 1..86400 seconds with 400 invalid_request, and rotates nothing', async () => {
    const creds = await register('bad overlap');
    const before = await auditOf(creds.clientId);
    const bodies: unknown[] = [
      { previous_secret_expires_in: 0 },
      { previous_secret_expires_in: 86401 },
      { previous_secret_expires_in: -5 },
      { previous_secret_expires_in: 1.5 },
      { previous_secret_expires_in: '60' },
      { previous_secret_expires_in: null },
      { previous_secret_expires_at: '2030-01-01T00:00:00Z' },
      [60],
      '{"previous_secret_expires_in": ',
    ];
    for (const body of bodies) {
      const res = await api(h.tessera, h.token, 'POST', `/clients/${creds.clientId}/secret`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error, 'invalid_request', JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body).sort(), ['error', 'error_description']);
    }
    const res = await api(h.tessera, h.token, 'POST', `/clients/${creds.clientId}/secret`, {
      previous_secret_expires_in: 0,
    });
    assert.deepEqual(res.body, {
      error: 'invalid_request',
      error_description: 'previous_secret_expires_in: must be between 1 and 86400 seconds',
    });
    assert.equal(await status(creds), 200, 'the secret did not change');
    assert.deepEqual(await auditOf(creds.clientId), before);
  });

  it('answers 404 for a client that does not exist', async () => {
    const res = await api(h.tessera, h.token, 'DELETE', '/clients/no-such-client/secret/previous');
    assert.deepEqual([res.status, res.body.error], [404, 'not_found']);
  });
});
