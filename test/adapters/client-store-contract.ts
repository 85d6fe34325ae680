import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { InvalidCursorError, StoreConflictError } from '../../src/errors.js';
import type {
  ClientListOptions,
  ClientRecord,
  ClientSecretRecord,
  ClientStore,
  ResourceRecord,
  UserRecord,
} from '../../src/stores/client-store.js';

export interface StoreHarness<T> {
  store: T;
  /** Releases whatever the store holds (connections, files, key prefixes). */
  dispose(): Promise<void>;
}

/** A store whose clock the test moves: lifetimes pass without waiting for them. */
export interface ClockedStoreHarness<T> extends StoreHarness<T> {
  advance(ms: number): Promise<void>;
}

let clock = Date.parse('2026-01-01T00:00:00.000Z');
/** Strictly increasing timestamps, so newest-first order is deterministic. */
const tick = (): string => new Date((clock += 1000)).toISOString();

export function clientRecord(overrides: Partial<ClientRecord> = {}): ClientRecord {
  const at = tick();
  return {
    client_id: randomUUID(),
    account_id: 'acct-a',
    client_name: `client ${randomUUID()}`,
    description: '',
    client_type: 'confidential',
    application_type: 'web',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    post_logout_redirect_uris: [],
    backchannel_logout_uri: null,
    scope: 'api:read',
    token_endpoint_auth_method: 'client_secret_basic',
    tls_client_certificate_bound_access_tokens: false,
    access_token_ttl: 3600,
    service_user_id: null,
    certificates: [],
    jwks: null,
    first_party: false,
    require_consent: true,
    disabled: false,
    secrets: [secretRecord({ created_at: at })],
    secret_version: 1,
    created_at: at,
    updated_at: at,
    last_used_at: null,
    ...overrides,
  };
}

export function secretRecord(overrides: Partial<ClientSecretRecord> = {}): ClientSecretRecord {
  return {
    id: randomUUID(),
    label: null,
    hint: 'abcd',
    hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    created_at: tick(),
    expires_at: null,
    last_used_at: null,
    ...overrides,
  };
}

function userRecord(overrides: Partial<UserRecord> = {}): UserRecord {
  const at = tick();
  return {
    id: randomUUID(),
    account_id: 'acct-a',
    username: `user-${randomUUID()}`,
    email: null,
    role: 'member',
    password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    disabled: false,
    created_at: at,
    updated_at: at,
    ...overrides,
  };
}

/** The behaviour every client store must have, run against each backend. */
export function clientStoreContract(backend: string, open: () => Promise<StoreHarness<ClientStore>>): void {
  describe(`client store contract: ${backend}`, () => {
    let harness: StoreHarness<ClientStore>;
    let store: ClientStore;
    const account = () => `acct-${randomUUID()}`;

    before(async () => {
      harness = await open();
      store = harness.store;
    });
    after(async () => harness.dispose());

    it('stores a client and returns an equal copy', async () => {
      const client = clientRecord({
        certificates: [
          { serial: '0a', sha256_thumbprint: 'x', not_after: '2027-01-01T00:00:00.000Z', revoked: false },
        ],
      });
      await store.createClient(client);
      const found = await store.getClient(client.client_id);
      assert.deepEqual(found, client);
      found!.scope = 'changed';
      assert.equal((await store.getClient(client.client_id))!.scope, 'api:read');
    });

    it('answers null for an unknown client id', async () => {
      assert.equal(await store.getClient('no-such-client'), null);
    });

    it('refuses a duplicate client id with a conflict on client_id', async () => {
      const client = clientRecord();
      await store.createClient(client);
      await assert.rejects(
        store.createClient(clientRecord({ client_id: client.client_id })),
        (error: unknown) => error instanceof StoreConflictError && error.field === 'client_id',
      );
    });

    it('keeps client names unique per account, ignoring case, but not across accounts', async () => {
      const acct = account();
      await store.createClient(clientRecord({ account_id: acct, client_name: 'Billing' }));
      await assert.rejects(
        store.createClient(clientRecord({ account_id: acct, client_name: 'billing' })),
        (error: unknown) => error instanceof StoreConflictError && error.field === 'client_name',
      );
      await store.createClient(clientRecord({ account_id: account(), client_name: 'Billing' }));
      assert.equal(await store.countClients(acct), 1);
    });

    it('lists an account newest first, in pages, and filters by name', async () => {
      const acct = account();
      const created: ClientRecord[] = [];
      for (const name of ['alpha', 'beta', 'gamma', 'alphabet', 'delta']) {
        const client = clientRecord({ account_id: acct, client_name: name });
        await store.createClient(client);
        created.push(client);
      }
      await store.createClient(clientRecord({ account_id: account(), client_name: 'alpha' }));

      const first = await store.listClients(acct, { limit: 2 });
      assert.deepEqual(
        first.data.map((c) => c.client_name),
        ['delta', 'alphabet'],
      );
      assert.ok(first.next_cursor);
      const second = await store.listClients(acct, { limit: 2, cursor: first.next_cursor });
      assert.deepEqual(
        second.data.map((c) => c.client_name),
        ['gamma', 'beta'],
      );
      const third = await store.listClients(acct, { limit: 2, cursor: second.next_cursor! });
      assert.deepEqual(
        third.data.map((c) => c.client_name),
        ['alpha'],
      );
      assert.equal(third.next_cursor, null);

      const filtered = await store.listClients(acct, { limit: 10, q: 'ALPHA' });
      assert.deepEqual(
        filtered.data.map((c) => c.client_name),
        ['alphabet', 'alpha'],
      );
      assert.equal(await store.countClients(acct), 5);
    });

    it('filters clients by grant type and status, together with the name and in pages', async () => {
      const acct = account();
      const make = (client_name: string, grant_types: string[], disabled: boolean) =>
        store.createClient(clientRecord({ account_id: acct, client_name, grant_types, disabled }));
      await make('web one', ['authorization_code', 'refresh_token'], false);
      await make('machine one', ['client_credentials'], false);
      await make('web two', ['authorization_code'], true);
      await make('machine two', ['client_credentials'], true);
      await make('web three', ['authorization_code'], false);
      const names = async (options: Omit<ClientListOptions, 'limit'>) =>
        (await store.listClients(acct, { limit: 10, ...options })).data.map((c) => c.client_name);

      assert.deepEqual(await names({ grantType: 'authorization_code' }), ['web three', 'web two', 'web one']);
      assert.deepEqual(await names({ grantType: 'refresh_token' }), ['web one']);
      assert.deepEqual(await names({ disabled: true }), ['machine two', 'web two']);
      assert.deepEqual(await names({ disabled: false }), ['web three', 'machine one', 'web one']);
      assert.deepEqual(await names({ grantType: 'client_credentials', disabled: false }), ['machine one']);
      assert.deepEqual(await names({ q: 'WEB', disabled: false }), ['web three', 'web one']);
      const first = await store.listClients(acct, {
        limit: 1,
        grantType: 'authorization_code',
        disabled: false,
      });
      assert.deepEqual(
        first.data.map((c) => c.client_name),
        ['web three'],
      );
      const second = await store.listClients(acct, {
        limit: 5,
        grantType: 'authorization_code',
        disabled: false,
        cursor: first.next_cursor!,
      });
      assert.deepEqual(
        second.data.map((c) => c.client_name),
        ['web one'],
      );
      assert.equal(second.next_cursor, null);
    });

    it('rejects a cursor it did not produce', async () => {
      await assert.rejects(
        store.listClients('acct-a', { limit: 5, cursor: 'not-a-cursor' }),
        InvalidCursorError,
      );
    });

    it('updates a client and reports a rename onto an existing name as a conflict', async () => {
      const acct = account();
      const one = clientRecord({ account_id: acct, client_name: 'one' });
      const two = clientRecord({ account_id: acct, client_name: 'two' });
      await store.createClient(one);
      await store.createClient(two);
      const updated = await store.updateClient(one.client_id, {
        scope: 'api:write',
        disabled: true,
      });
      assert.equal(updated!.scope, 'api:write');
      assert.equal(updated!.disabled, true);
      assert.deepEqual(await store.getClient(one.client_id), updated);
      await assert.rejects(
        store.updateClient(two.client_id, { client_name: 'ONE' }),
        (error: unknown) => error instanceof StoreConflictError && error.field === 'client_name',
      );
      assert.equal((await store.getClient(two.client_id))!.client_name, 'two');
      assert.equal(await store.updateClient('missing', { scope: 'x' }), null);
    });

    it('moves last_used_at only forward and leaves updated_at alone', async () => {
      const client = clientRecord();
      await store.createClient(client);
      await store.touchClient(client.client_id, '2026-06-01T00:00:00.000Z');
      await store.touchClient(client.client_id, '2026-05-01T00:00:00.000Z');
      const found = await store.getClient(client.client_id);
      assert.equal(found!.last_used_at, '2026-06-01T00:00:00.000Z');
      assert.equal(found!.updated_at, client.updated_at);
    });

    it('replaces the secrets only at the expected version: of racing changes exactly one wins', async () => {
      const client = clientRecord();
      await store.createClient(client);
      const added = secretRecord({ label: 'second' });
      const updatedAt = tick();
      const results = await Promise.all(
        ['first', 'second', 'third'].map((label) =>
          store.replaceClientSecrets(
            client.client_id,
            1,
            [secretRecord({ label }), ...client.secrets],
            updatedAt,
          ),
        ),
      );
      assert.equal(results.filter((result) => result !== null).length, 1);
      const winner = results.find((result) => result !== null)!;
      assert.equal(winner.secret_version, 2);
      assert.equal(winner.updated_at, updatedAt);
      assert.deepEqual(await store.getClient(client.client_id), winner);
      assert.equal(await store.replaceClientSecrets(client.client_id, 1, [added], tick()), null);
      const next = await store.replaceClientSecrets(client.client_id, 2, [added], updatedAt);
      assert.deepEqual(next!.secrets, [added]);
      assert.equal(await store.replaceClientSecrets('no-such-client', 1, [added], tick()), null);
    });

    it('drops the one-secret fields of earlier versions when the secrets are replaced', async () => {
      const { secrets: _secrets, ...rest } = clientRecord();
      const legacy = {
        ...rest,
        secret_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b2xk',
        previous_secret_hash: null,
        previous_secret_expires_at: null,
      };
      await store.createClient(legacy as unknown as ClientRecord);
      const secret = secretRecord();
      const replaced = await store.replaceClientSecrets(legacy.client_id, 1, [secret], tick());
      const stored = (await store.getClient(legacy.client_id)) as unknown as Record<string, unknown>;
      assert.deepEqual(stored, replaced);
      assert.deepEqual(stored.secrets, [secret]);
      for (const field of ['secret_hash', 'previous_secret_hash', 'previous_secret_expires_at'])
        assert.equal(field in stored, false, field);
    });

    it("touches one secret's last_used_at at most once per interval, and nothing else", async () => {
      const other = secretRecord();
      const client = clientRecord();
      client.secrets.push(other);
      await store.createClient(client);
      const [used] = client.secrets;
      const at = (s: number) => new Date(Date.parse('2026-06-01T00:00:00.000Z') + s * 1000).toISOString();
      await store.touchClientSecret(client.client_id, used!.id, at(0), 60_000);
      await store.touchClientSecret(client.client_id, used!.id, at(59), 60_000);
      let found = await store.getClient(client.client_id);
      assert.deepEqual(
        found!.secrets.map((secret) => secret.last_used_at),
        [at(0), null],
      );
      await store.touchClientSecret(client.client_id, used!.id, at(60), 60_000);
      await store.touchClientSecret(client.client_id, 'no-such-secret', at(60), 60_000);
      await store.touchClientSecret('no-such-client', used!.id, at(60), 60_000);
      found = await store.getClient(client.client_id);
      assert.deepEqual(
        found!.secrets.map((secret) => secret.last_used_at),
        [at(60), null],
      );
      assert.deepEqual([found!.secret_version, found!.updated_at], [1, client.updated_at]);
    });

    it('adds, revokes and removes certificates without losing concurrent additions', async () => {
      const client = clientRecord({ token_endpoint_auth_method: 'tls_client_auth', secrets: [] });
      await store.createClient(client);
      const cert = (serial: string) => ({
        serial,
        sha256_thumbprint: `thumb-${serial}`,
        not_after: '2027-01-01T00:00:00.000Z',
        revoked: false,
      });
      // Added at once: each is an atomic append, none overwrites another.
      await Promise.all(
        ['a1', 'b2', 'c3', 'd4'].map((s) => store.addCertificate(client.client_id, cert(s), tick())),
      );
      const added = await store.getClient(client.client_id);
      assert.deepEqual(added!.certificates.map((c) => c.serial).sort(), ['a1', 'b2', 'c3', 'd4']);
      assert.ok(added!.updated_at > client.updated_at);

      const at = tick();
      const revoked = await store.revokeCertificate(client.client_id, 'b2', at);
      assert.equal(revoked!.updated_at, at);
      assert.deepEqual(
        revoked!.certificates.find((c) => c.serial === 'b2'),
        { ...cert('b2'), revoked: true },
      );
      assert.equal(revoked!.certificates.filter((c) => c.revoked).length, 1, 'only that one');
      assert.equal(await store.revokeCertificate(client.client_id, 'zz', tick()), null);
      assert.equal(await store.revokeCertificate('no-such-client', 'a1', tick()), null);
      assert.equal(await store.addCertificate('no-such-client', cert('e5'), tick()), null);

      await store.removeCertificates(client.client_id, ['a1', 'c3', 'zz']);
      const left = await store.getClient(client.client_id);
      assert.deepEqual(
        [...left!.certificates].sort((x, y) => x.serial.localeCompare(y.serial)),
        [{ ...cert('b2'), revoked: true }, cert('d4')],
      );
      assert.equal(left!.client_name, client.client_name, 'the rest of the record is untouched');
    });

    it('deletes a client once', async () => {
      const client = clientRecord();
      await store.createClient(client);
      assert.equal(await store.deleteClient(client.client_id), true);
      assert.equal(await store.getClient(client.client_id), null);
      assert.equal(await store.deleteClient(client.client_id), false);
    });

    it('creates, reads, lists and updates accounts; a duplicate id is a conflict', async () => {
      const id = account();
      const at = tick();
      await store.createAccount({ id, name: 'Acme', max_clients: 5, created_at: at, updated_at: at });
      assert.deepEqual(await store.getAccount(id), {
        id,
        name: 'Acme',
        max_clients: 5,
        created_at: at,
        updated_at: at,
      });
      await assert.rejects(
        store.createAccount({ id, name: 'Again', max_clients: null, created_at: at, updated_at: at }),
        (error: unknown) => error instanceof StoreConflictError && error.field === 'account_id',
      );
      const updated = await store.updateAccount(id, { name: 'Acme Inc', max_clients: null });
      assert.equal(updated!.name, 'Acme Inc');
      assert.equal(updated!.max_clients, null);
      const listed = await store.listAccounts({ limit: 1000 });
      assert.ok(listed.data.some((a) => a.id === id));
      assert.equal(await store.getAccount('missing'), null);
    });

    it('keeps usernames unique per account, finds users by name and updates them', async () => {
      const acct = account();
      const user = userRecord({ account_id: acct, username: 'Alice' });
      await store.createUser(user);
      assert.deepEqual(await store.findUserByUsername(acct, 'alice'), user);
      assert.equal(await store.findUserByUsername(account(), 'alice'), null);
      await assert.rejects(
        store.createUser(userRecord({ account_id: acct, username: 'ALICE' })),
        (error: unknown) => error instanceof StoreConflictError && error.field === 'username',
      );
      const updated = await store.updateUser(user.id, { role: 'admin', disabled: true });
      assert.equal(updated!.role, 'admin');
      assert.deepEqual(await store.getUser(user.id), updated);
      const second = userRecord({ account_id: acct, username: 'bob' });
      await store.createUser(second);
      assert.deepEqual(
        (await store.listUsers(acct, { limit: 10 })).data.map((u) => u.username),
        ['bob', 'Alice'],
      );
      assert.equal(await store.deleteUser(user.id), true);
      assert.equal(await store.getUser(user.id), null);
    });

    it('keeps the first stored secret value when two callers race', async () => {
      const name = `value-${randomUUID()}`;
      const [a, b] = await Promise.all([
        store.ensureSecretValue(name, () => ({ v: 'first' })),
        store.ensureSecretValue(name, () => ({ v: 'second' })),
      ]);
      assert.deepEqual(a, b);
      let called = false;
      const again = await store.ensureSecretValue(name, () => {
        called = true;
        return { v: 'third' };
      });
      assert.deepEqual(again, a);
      assert.equal(called, false);
    });

    it('replaces a secret value only while its revision is the expected one', async () => {
      const name = `value-${randomUUID()}`;
      assert.equal(await store.replaceSecretValue(name, null, { revision: 'r1', v: 0 }), false);
      await store.ensureSecretValue(name, () => ({ v: 'unrevised' }));
      assert.equal(await store.replaceSecretValue(name, 'r0', { revision: 'r1', v: 1 }), false);
      assert.deepEqual(await store.ensureSecretValue(name, () => ({})), { v: 'unrevised' });
      assert.equal(await store.replaceSecretValue(name, null, { revision: 'r1', v: 1 }), true);
      assert.deepEqual(await store.ensureSecretValue(name, () => ({})), { revision: 'r1', v: 1 });
      assert.equal(await store.replaceSecretValue(name, null, { revision: 'r2', v: 2 }), false);
      const raced = await Promise.all([
        store.replaceSecretValue(name, 'r1', { revision: 'a', v: 'a' }),
        store.replaceSecretValue(name, 'r1', { revision: 'b', v: 'b' }),
      ]);
      assert.deepEqual(
        raced.filter((won) => won),
        [true],
      );
      const winner = raced[0] ? { revision: 'a', v: 'a' } : { revision: 'b', v: 'b' };
      assert.deepEqual(await store.ensureSecretValue(name, () => ({})), winner);
    });

    it('lists audit entries of one account newest first, in pages', async () => {
      const acct = account();
      for (const action of ['client.create', 'client.update', 'client.delete']) {
        await store.appendAudit({
          id: randomUUID(),
          account_id: acct,
          at: tick(),
          actor: 'client:x',
          action,
          target: 'client:y',
          details: { n: 1 },
        });
      }
      await store.appendAudit({
        id: randomUUID(),
        account_id: account(),
        at: tick(),
        actor: 'a',
        action: 'other',
        target: 't',
        details: {},
      });
      const first = await store.listAudit(acct, { limit: 2 });
      assert.deepEqual(
        first.data.map((e) => e.action),
        ['client.delete', 'client.update'],
      );
      const rest = await store.listAudit(acct, { limit: 2, cursor: first.next_cursor! });
      assert.deepEqual(
        rest.data.map((e) => e.action),
        ['client.create'],
      );
      assert.equal(rest.next_cursor, null);
      assert.deepEqual(rest.data[0]!.details, { n: 1 });
    });

    const resourceRecord = (overrides: Partial<ResourceRecord> = {}): ResourceRecord => {
      const at = tick();
      return {
        id: randomUUID(),
        account_id: 'acct-a',
        identifier: `https://api-${randomUUID()}.example.com`,
        name: 'Orders API',
        scope: 'api:read api:write',
        access_token_format: 'jwt',
        access_token_ttl: null,
        created_at: at,
        updated_at: at,
        ...overrides,
      };
    };

    it('stores resource servers, finds them by id and identifier, and keeps identifiers unique', async () => {
      const acct = account();
      const orders = resourceRecord({ account_id: acct });
      await store.createResource(orders);
      assert.deepEqual(await store.getResource(orders.id), orders);
      assert.deepEqual(await store.findResourceByIdentifier(orders.identifier), orders);
      assert.equal(await store.getResource('nope'), null);
      assert.equal(await store.findResourceByIdentifier('https://nowhere.example'), null);
      // Unique in the deployment, not only in the account.
      await assert.rejects(
        () => store.createResource(resourceRecord({ account_id: account(), identifier: orders.identifier })),
        (error: unknown) => error instanceof StoreConflictError && error.field === 'identifier',
      );
      await assert.rejects(
        () => store.createResource({ ...resourceRecord({ account_id: acct }), id: orders.id }),
        (error: unknown) => error instanceof StoreConflictError && error.field === 'resource_id',
      );
      const copy = await store.getResource(orders.id);
      copy!.scope = 'changed';
      assert.equal((await store.getResource(orders.id))!.scope, 'api:read api:write', 'reads are copies');
    });

    it("lists an account's resource servers newest first in pages, and updates and deletes them", async () => {
      const acct = account();
      const made: ResourceRecord[] = [];
      for (let i = 0; i < 3; i += 1) {
        const resource = resourceRecord({ account_id: acct, name: `api ${i}` });
        await store.createResource(resource);
        made.push(resource);
      }
      await store.createResource(resourceRecord({ account_id: account() }));
      const first = await store.listResources(acct, { limit: 2 });
      assert.deepEqual(
        first.data.map((r) => r.name),
        ['api 2', 'api 1'],
      );
      const rest = await store.listResources(acct, { limit: 2, cursor: first.next_cursor! });
      assert.deepEqual(
        rest.data.map((r) => r.name),
        ['api 0'],
      );
      assert.equal(rest.next_cursor, null);
      await assert.rejects(() => store.listResources(acct, { limit: 2, cursor: 'bad' }), InvalidCursorError);

      const updated = await store.updateResource(made[0]!.id, {
        name: 'renamed',
        access_token_ttl: 600,
        identifier: 'https://renamed.example.com',
        updated_at: tick(),
      });
      assert.equal(updated?.name, 'renamed');
      assert.equal(updated?.access_token_ttl, 600);
      assert.deepEqual(await store.findResourceByIdentifier('https://renamed.example.com'), updated);
      assert.equal(await store.findResourceByIdentifier(made[0]!.identifier), null);
      await assert.rejects(
        () => store.updateResource(made[1]!.id, { identifier: 'https://renamed.example.com' }),
        (error: unknown) => error instanceof StoreConflictError && error.field === 'identifier',
      );
      assert.equal(await store.updateResource('nope', { name: 'x' }), null);
      assert.equal(await store.deleteResource(made[0]!.id), true);
      assert.equal(await store.deleteResource(made[0]!.id), false);
      assert.equal(await store.getResource(made[0]!.id), null);
    });

    it('keeps one audit entry per id: a second append of the id is a conflict', async () => {
      const acct = account();
      const entry = {
        id: randomUUID(),
        account_id: acct,
        at: tick(),
        actor: 'provisioning',
        action: 'client.update',
        target: 'client:z',
        details: { fields: ['scope'] },
      };
      await store.appendAudit(entry);
      await assert.rejects(
        () => store.appendAudit({ ...entry, at: tick() }),
        (error: unknown) => error instanceof StoreConflictError && error.field === 'audit_id',
      );
      assert.equal((await store.listAudit(acct, { limit: 10 })).data.length, 1);
    });

    it('lists the audit entries of one target only', async () => {
      const acct = account();
      for (const target of ['client:one', 'client:two', 'client:one', 'user:one']) {
        await store.appendAudit({
          id: randomUUID(),
          account_id: acct,
          at: tick(),
          actor: 'user:u',
          action: 'client.update',
          target,
          details: {},
        });
      }
      const first = await store.listAudit(acct, { limit: 1, target: 'client:one' });
      assert.deepEqual(
        first.data.map((e) => e.target),
        ['client:one'],
      );
      const rest = await store.listAudit(acct, {
        limit: 5,
        target: 'client:one',
        cursor: first.next_cursor!,
      });
      assert.deepEqual(
        rest.data.map((e) => e.target),
        ['client:one'],
      );
      assert.equal(rest.next_cursor, null);
      assert.deepEqual((await store.listAudit(acct, { limit: 5, target: 'client:none' })).data, []);
    });

    it('sums the hourly usage of several writers, and forgets hours before the cut-off', async () => {
      const id = randomUUID();
      const hour = (h: number) => `2020-01-02T${String(h).padStart(2, '0')}:00:00.000Z`;
      const keepAll = '2020-01-01T00:00:00.000Z';
      await store.addUsage(id, [{ hour: hour(10), tokens_issued: 2, auth_failures: 1 }], keepAll);
      await Promise.all([
        store.addUsage(id, [{ hour: hour(10), tokens_issued: 3, auth_failures: 0 }], keepAll),
        store.addUsage(
          id,
          [
            { hour: hour(12), tokens_issued: 1, auth_failures: 4 },
            { hour: hour(11), tokens_issued: 7, auth_failures: 0 },
          ],
          keepAll,
        ),
        store.addUsage(randomUUID(), [{ hour: hour(10), tokens_issued: 9, auth_failures: 9 }], keepAll),
      ]);
      assert.deepEqual(await store.listUsage(id, hour(0)), [
        { hour: hour(10), tokens_issued: 5, auth_failures: 1 },
        { hour: hour(11), tokens_issued: 7, auth_failures: 0 },
        { hour: hour(12), tokens_issued: 1, auth_failures: 4 },
      ]);
      assert.deepEqual(await store.listUsage(id, hour(12)), [
        { hour: hour(12), tokens_issued: 1, auth_failures: 4 },
      ]);
      await store.addUsage(randomUUID(), [], hour(11));
      assert.deepEqual(
        (await store.listUsage(id, hour(0))).map((u) => u.hour),
        [hour(11), hour(12)],
      );
    });

    it('answers a ping', async () => {
      await store.ping();
    });
  });
}
