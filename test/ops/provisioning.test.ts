import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/config.js';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { codeThroughForms } from '../support/browser.js';
import { testMongo, TEST_SECRETS_KEY } from '../support/mongo.js';
import { openMongoClientStore } from '../../adapters/mongo/client-store.js';
import { basic, clientCredentials, introspect, postForm } from '../support/oauth.js';
import { spawnTessera } from '../support/process.js';
import { deleteByPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { startTessera, tempDir, type RunningTessera } from '../support/tessera.js';

const files = tempDir('tessera-provision-');
let written = 0;
const provisionFile = (content: unknown): string => {
  const file = path.join(files.dir, `provision-${(written += 1)}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
};

const SYNC_SECRET = 'acme-sync-secret-0123456789abcdefghijklmnop';
const OPS_PASSWORD = 'acme ops password 1';
const ROBOT_PASSWORD = 'acme robot password 1';
const SECRETS = {
  ACME_SYNC_SECRET: SYNC_SECRET,
  ACME_OPS_PASSWORD: OPS_PASSWORD,
  ACME_ROBOT_PASSWORD: ROBOT_PASSWORD,
};

/** The README's worked example: one account capped at 2 clients, a sync service with a service user, a web app. */
const ACME = {
  accounts: [
    {
      id: 'acme',
      name: 'Acme',
      max_clients: 2,
      users: [
        { username: 'ops', role: 'admin', email: 'ops@acme.example', password_env: 'ACME_OPS_PASSWORD' },
        { username: 'sync-robot', role: 'member', password_env: 'ACME_ROBOT_PASSWORD' },
      ],
      clients: [
        {
          client_id: 'acme-sync',
          client_name: 'Sync service',
          grant_types: ['client_credentials'],
          scope: 'api:read api:write',
          client_secret_env: 'ACME_SYNC_SECRET',
          service_user: 'sync-robot',
        },
        {
          client_id: 'acme-web',
          client_name: 'Acme web app',
          grant_types: ['authorization_code', 'refresh_token'],
          redirect_uris: ['https://app.acme.example/callback'],
          scope: 'openid profile api:read',
        },
      ],
    },
  ],
};

/** Everything the store holds that provisioning may change: the export and the audit log of acme. */
async function stateOf(tessera: RunningTessera, accountId: string) {
  const store = tessera.container.clientStore;
  const clients = (await store.listClients(accountId, { limit: 100 })).data;
  const users = (await store.listUsers(accountId, { limit: 100 })).data;
  const audit = (await store.listAudit(accountId, { limit: 100 })).data;
  return { account: await store.getAccount(accountId), clients, users, audit };
}

describe('provisioning file', () => {
  after(() => files.remove());

  it('creates the declared accounts, users and clients at start, and they work', async () => {
    const data = tempDir();
    const tessera = await startTessera({
      dataDir: data.dir,
      env: { TESSERA_PROVISION_FILE: provisionFile(ACME), ...SECRETS },
    });
    try {
      const { account, clients, users, audit } = await stateOf(tessera, 'acme');
      assert.deepEqual(
        { id: account?.id, name: account?.name, max_clients: account?.max_clients },
        { id: 'acme', name: 'Acme', max_clients: 2 },
      );
      assert.deepEqual(clients.map((c) => c.client_id).sort(), ['acme-sync', 'acme-web']);
      assert.deepEqual(users.map((u) => u.username).sort(), ['ops', 'sync-robot']);
      assert.ok(audit.every((entry) => entry.actor === 'provisioning'));
      assert.deepEqual(audit.map((entry) => entry.action).sort(), [
        'account.create',
        'client.create',
        'client.create',
        'user.create',
        'user.create',
      ]);

      // The sync service authenticates with the secret from its variable, as its service user.
      const sync = { clientId: 'acme-sync', secret: SYNC_SECRET };
      const token = await clientCredentials(tessera.url, sync);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal(token.body.scope, 'api:read api:write');
      const robot = users.find((u) => u.username === 'sync-robot')!;
      assert.equal((await introspect(tessera.url, sync, String(token.body.access_token))).body.sub, robot.id);

      // The web app has a generated secret, printed once with the bootstrap's.
      const generated = tessera.container.generated.provisioned ?? [];
      assert.deepEqual(
        generated.map((item) => [item.account, item.client_id]),
        [['acme', 'acme-web']],
      );
      const web = { clientId: 'acme-web', secret: generated[0]!.secret };
      const { code, verifier } = await codeThroughForms(tessera.url, {
        clientId: 'acme-web',
        redirectUri: 'https://app.acme.example/callback',
        scope: 'openid api:read',
        username: 'ops',
        password: OPS_PASSWORD,
      });
      const tokens = await postForm(
        `${tessera.url}/oauth/token`,
        {
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: 'https://app.acme.example/callback',
        },
        basic(web.clientId, web.secret),
      );
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    } finally {
      await tessera.close();
      data.remove();
    }
  });

  it('writes nothing on a second start with the same file, applies changes, and leaves the rest alone', async () => {
    const data = tempDir();
    const env = { TESSERA_PROVISION_FILE: provisionFile(ACME), ...SECRETS };
    const first = await startTessera({ dataDir: data.dir, env });
    const created = await stateOf(first, 'acme');
    // Something the file does not name: a user added through the admin API.
    await first.container.users.create({
      account_id: 'acme',
      username: 'extra',
      password: 'extra password 1',
      role: 'member',
    });
    await first.close();

    const second = await startTessera({ dataDir: data.dir, env });
    try {
      const again = await stateOf(second, 'acme');
      assert.deepEqual(again.clients, created.clients, 'no client written');
      assert.deepEqual(again.audit, created.audit, 'no audit entry');
      assert.deepEqual(again.account, created.account);
      assert.equal(
        second.container.generated.provisioned?.length ?? 0,
        0,
        'nothing generated or printed again',
      );
      await second.close();

      const changed = structuredClone(ACME);
      changed.accounts[0]!.clients[0]!.scope = 'api:read';
      changed.accounts[0]!.users[0]!.role = 'member';
      const newSecret = 'acme-sync-rotated-secret-0123456789abcdefgh';
      const third = await startTessera({
        dataDir: data.dir,
        env: { ...env, TESSERA_PROVISION_FILE: provisionFile(changed), ACME_SYNC_SECRET: newSecret },
      });
      try {
        const after = await stateOf(third, 'acme');
        const sync = after.clients.find((c) => c.client_id === 'acme-sync')!;
        assert.equal(sync.scope, 'api:read');
        assert.equal(after.users.find((u) => u.username === 'ops')!.role, 'member');
        assert.ok(
          after.users.some((u) => u.username === 'extra'),
          'a user absent from the file is untouched',
        );
        assert.deepEqual(
          after.audit.slice(0, 3).map((entry) => [entry.actor, entry.action, entry.target.split(':')[0]]),
          [
            ['provisioning', 'client.secret.rotate', 'client'],
            ['provisioning', 'client.update', 'client'],
            ['provisioning', 'user.update', 'user'],
          ],
        );
        assert.equal(
          (await clientCredentials(third.url, { clientId: 'acme-sync', secret: SYNC_SECRET })).status,
          401,
        );
        assert.equal(
          (await clientCredentials(third.url, { clientId: 'acme-sync', secret: newSecret })).status,
          200,
        );
        assert.ok(!JSON.stringify(after.audit).includes(newSecret));
      } finally {
        await third.close();
      }
    } finally {
      data.remove();
    }
  });

  const refused: [label: string, file: unknown, env: Record<string, string>, message: string][] = [
    ['a file that is not JSON', '{"accounts": [', SECRETS, ': is not valid JSON ('],
    ['no accounts list', {}, SECRETS, ': accounts: '],
    [
      'an unknown field',
      { accounts: [{ ...ACME.accounts[0], owner: 'x' }] },
      SECRETS,
      ': accounts[0].owner: unknown field',
    ],
    [
      'an unknown client field',
      { accounts: [{ ...ACME.accounts[0], clients: [{ ...ACME.accounts[0]!.clients[0], secret: 'x' }] }] },
      SECRETS,
      ': accounts[0].clients[0].secret: unknown field',
    ],
    [
      'a missing variable',
      ACME,
      { ACME_OPS_PASSWORD: OPS_PASSWORD, ACME_ROBOT_PASSWORD: ROBOT_PASSWORD },
      ': accounts[0].clients[0].client_secret_env: variable ACME_SYNC_SECRET is not set',
    ],
    [
      'a short secret',
      ACME,
      { ...SECRETS, ACME_SYNC_SECRET: 'short' },
      ': accounts[0].clients[0].client_secret_env: variable ACME_SYNC_SECRET must hold at least 32 characters',
    ],
    [
      'a scope the deployment does not offer',
      {
        accounts: [
          { ...ACME.accounts[0], clients: [{ ...ACME.accounts[0]!.clients[0], scope: 'api:export' }] },
        ],
      },
      SECRETS,
      ': accounts[0].clients[0].scope: scope "api:export" is not offered by this server',
    ],
    [
      'an unknown service user',
      { accounts: [{ ...ACME.accounts[0], users: [ACME.accounts[0]!.users[0]] }] },
      SECRETS,
      ': accounts[0].clients[0].service_user: no user "sync-robot" in account acme',
    ],
    [
      'more clients than the cap',
      { accounts: [{ ...ACME.accounts[0], max_clients: 1 }] },
      SECRETS,
      ': accounts[0].clients: the account may hold at most 1 clients',
    ],
    [
      'a duplicate client id',
      {
        accounts: [
          ACME.accounts[0],
          { id: 'beta', name: 'Beta', clients: [{ client_id: 'acme-sync', client_name: 'copy' }] },
        ],
      },
      SECRETS,
      ': accounts[1].clients[0].client_id: client "acme-sync" is declared twice',
    ],
    [
      'the oob label with authorization_code',
      {
        accounts: [
          {
            ...ACME.accounts[0],
            clients: [{ ...ACME.accounts[0]!.clients[1], redirect_uris: ['urn:ietf:wg:oauth:2.0:oob'] }],
          },
        ],
      },
      SECRETS,
      ': accounts[0].clients[0].redirect_uris: urn:ietf:wg:oauth:2.0:oob cannot be used with authorization_code',
    ],
    [
      'a client the bootstrap manages',
      {
        accounts: [
          { id: 'beta', name: 'Beta', clients: [{ client_id: 'tessera-admin', client_name: 'mine' }] },
        ],
      },
      SECRETS,
      ': accounts[0].clients[0].client_id: client "tessera-admin" is managed by the bootstrap',
    ],
    [
      'accounts:admin outside account default',
      {
        accounts: [
          {
            id: 'beta',
            name: 'Beta',
            clients: [{ client_id: 'beta-root', client_name: 'root', scope: 'accounts:admin' }],
          },
        ],
      },
      SECRETS,
      ': accounts[0].clients[0].scope: scope "accounts:admin" is reserved to clients of account default',
    ],
  ];
  for (const [label, content, env, message] of refused) {
    it(`refuses ${label} with one line naming the file and the field, and applies none of it`, async () => {
      const file = provisionFile(content);
      await assert.rejects(
        () => startTessera({ env: { TESSERA_PROVISION_FILE: file, ...env } }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.equal(error.variable, 'TESSERA_PROVISION_FILE');
          assert.ok(error.message.startsWith(`TESSERA_PROVISION_FILE: ${file}${message}`), error.message);
          assert.ok(!error.message.includes('\n'));
          return true;
        },
      );
    });
  }

  it('applies nothing of a file that fails halfway through its checks', async () => {
    const data = tempDir();
    const bad = {
      accounts: [
        ACME.accounts[0],
        { id: 'beta', name: 'Beta', clients: [{ client_id: 'x', client_name: 'x', scope: 'nope' }] },
      ],
    };
    await assert.rejects(() =>
      startTessera({ dataDir: data.dir, env: { TESSERA_PROVISION_FILE: provisionFile(bad), ...SECRETS } }),
    );
    const tessera = await startTessera({ dataDir: data.dir });
    try {
      assert.equal(await tessera.container.clientStore.getAccount('acme'), null);
      assert.equal(await tessera.container.clientStore.getClient('acme-sync'), null);
    } finally {
      await tessera.close();
      data.remove();
    }
  });

  it("exports the caller's account without secrets, and the export reproduces it elsewhere", async () => {
    const source = await startTessera();
    const target = tempDir();
    try {
      const root = await tokenFor(source.url);
      const robot = await api(source, root, 'POST', '/users', {
        username: 'robot',
        password: 'robot password 1',
        role: 'member',
      });
      await api(source, root, 'POST', '/users', {
        username: 'ann',
        password: 'ann password 12',
        role: 'admin',
        email: 'ann@example.com',
      });
      const made = [
        { client_name: 'worker', scope: 'api:read', service_user_id: robot.body.id, access_token_ttl: 600 },
        {
          client_name: 'site',
          grant_types: ['authorization_code', 'refresh_token'],
          redirect_uris: ['https://site.example/cb'],
          post_logout_redirect_uris: ['https://site.example/signed-out'],
          backchannel_logout_uri: 'https://site.example/backchannel-logout',
          scope: 'openid',
          require_consent: false,
        },
        {
          client_name: 'phone',
          token_endpoint_auth_method: 'none',
          redirect_uris: ['com.example.phone:/cb'],
          scope: 'openid profile',
        },
        { client_name: 'labelled', redirect_uris: ['urn:ietf:wg:oauth:2.0:oob'], description: 'no redirect' },
      ];
      for (const body of made) assert.equal((await api(source, root, 'POST', '/clients', body)).status, 201);
      const labelled = (await api(source, root, 'GET', '/clients?q=labelled')).body.data as {
        client_id: string;
      }[];
      await api(source, root, 'PATCH', `/clients/${labelled[0]!.client_id}`, { disabled: true });

      const exported = await api(source, root, 'GET', '/export');
      assert.equal(exported.status, 200);
      assert.equal(exported.headers.get('cache-control'), 'no-store');
      const text = JSON.stringify(exported.body);
      for (const secretish of ['"client_secret"', 'hash', '_env', 'password', 'argon2', 'certificates']) {
        assert.ok(!text.includes(secretish), `no ${secretish} in the export`);
      }
      const account = (exported.body.accounts as Record<string, unknown>[])[0]!;
      assert.equal(account.id, 'default');
      const names = (account.clients as { client_name: string }[]).map((c) => c.client_name);
      assert.deepEqual(
        names,
        ['worker', 'site', 'phone', 'labelled'],
        'oldest first, the bootstrap clients left out',
      );
      const worker = (account.clients as Record<string, unknown>[])[0]!;
      assert.equal(worker.service_user, 'robot');
      const site = (account.clients as Record<string, unknown>[])[1]!;
      assert.deepEqual(site.post_logout_redirect_uris, ['https://site.example/signed-out']);
      assert.equal(site.backchannel_logout_uri, 'https://site.example/backchannel-logout');

      // Add the secrets, apply to an empty deployment: the same account comes out.
      const env: Record<string, string> = {};
      const withSecrets = structuredClone(exported.body) as {
        accounts: { clients: Record<string, unknown>[]; users: Record<string, unknown>[] }[];
      };
      for (const client of withSecrets.accounts[0]!.clients) {
        if (client.token_endpoint_auth_method === 'client_secret_basic') {
          const name = `SECRET_${String(client.client_name).toUpperCase()}`;
          client.client_secret_env = name;
          env[name] = `${name}-0123456789abcdefghijklmnopqrstuvwxyz`;
        }
      }
      for (const user of withSecrets.accounts[0]!.users) {
        const name = `PASSWORD_${String(user.username).toUpperCase()}`;
        user.password_env = name;
        env[name] = `${name} password`;
      }
      const copy = await startTessera({
        dataDir: target.dir,
        env: { TESSERA_PROVISION_FILE: provisionFile(withSecrets), ...env },
      });
      try {
        const again = await api(copy, await tokenFor(copy.url), 'GET', '/export');
        assert.deepEqual(again.body, exported.body);
        const workerId = String(worker.client_id);
        assert.equal(
          (await clientCredentials(copy.url, { clientId: workerId, secret: env.SECRET_WORKER! })).status,
          200,
        );
      } finally {
        await copy.close();
      }
      const reader = await api(source, root, 'POST', '/clients', {
        client_name: 'reader',
        scope: 'clients:read',
      });
      const readerToken = await tokenFor(source.url, credentialsOf(reader));
      const forbidden = await api(source, readerToken, 'GET', '/export');
      assert.deepEqual(
        [forbidden.status, forbidden.body.error],
        [403, 'insufficient_scope'],
        'export needs scope admin',
      );
    } finally {
      await source.close();
      target.remove();
    }
  });

  it('gives two processes starting at once on one store the result of one start', async () => {
    const mongo = await testMongo('provisioning');
    const redisUrl = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/12`;
    await deleteByPrefix(redisUrl, 'tessera:');
    const data = [tempDir(), tempDir()];
    const env = (dir: string) => ({
      TESSERA_DATA_DIR: dir,
      MONGODB_URI: mongo.uri,
      TESSERA_SECRETS_KEY: TEST_SECRETS_KEY,
      REDIS_URL: redisUrl,
      TESSERA_ADMIN_CLIENT_SECRET: 'provisioning-admin-secret-0123456789abcdef',
      TESSERA_PROVISION_FILE: provisionFile(ACME),
      ...SECRETS,
    });
    const starts = await Promise.allSettled(data.map((dir) => spawnTessera(env(dir.dir))));
    const [one, two] = starts.map((start) => (start.status === 'fulfilled' ? start.value : undefined));
    try {
      for (const start of starts) if (start.status === 'rejected') throw start.reason;
      const admin = { clientId: 'tessera-admin', secret: 'provisioning-admin-secret-0123456789abcdef' };
      const token = await tokenFor(one!.url, admin);
      const accounts = (await api(one!.url, token, 'GET', '/accounts')).body.data as { id: string }[];
      assert.deepEqual(accounts.map((a) => a.id).sort(), ['acme', 'default']);
      const { store } = await openMongoClientStore(mongo.uri);
      try {
        assert.deepEqual((await store.listClients('acme', { limit: 10 })).data.length, 2);
        assert.deepEqual((await store.listUsers('acme', { limit: 10 })).data.length, 2);
        const audit = (await store.listAudit('acme', { limit: 100 })).data.map((entry) => entry.action);
        assert.deepEqual(audit.sort(), [
          'account.create',
          'client.create',
          'client.create',
          'user.create',
          'user.create',
        ]);
      } finally {
        await store.close();
      }
      const sync = await clientCredentials(two!.url, { clientId: 'acme-sync', secret: SYNC_SECRET });
      assert.equal(sync.status, 200);
      const printed = [one!, two!].map((node) => node.stdout().includes('client_id:     acme-web'));
      assert.deepEqual(printed.sort(), [false, true], 'the generated secret is printed by one process only');
      for (const node of [one!, two!]) assert.ok(!node.stderr().includes('"level":50'), node.stderr());
    } finally {
      await one?.stop();
      await two?.stop();
      await deleteByPrefix(redisUrl, 'tessera:');
      await mongo.dispose();
      data.forEach((dir) => dir.remove());
    }
  });
});
