import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createAuditService, type AuditService } from '../audit/audit-service.js';
import type { Principal } from '../auth/principal.js';
import { BOOTSTRAP_CLIENTS } from '../bootstrap.js';
import { SECRET_AUTH_METHODS } from '../clients/client-model.js';
import type { CreateClientInput, PatchClientInput } from '../clients/client-schema.js';
import type { ClientService } from '../clients/client-service.js';
import type { Config } from '../config.js';
import { generateSecret, verifySecret } from '../crypto/secrets.js';
import { AppError, StoreConflictError } from '../errors.js';
import { definedFields, definedOnly } from '../objects.js';
import type { ClientRecord, ClientStore, UserRecord } from '../stores/client-store.js';
import type { UserService } from '../users/user-service.js';
import {
  parseProvisionFile,
  ProvisionFileError,
  type ProvisionedAccount,
  type ProvisionedClient,
  type ProvisionedUser,
  type ProvisionFile,
} from './provision-file.js';

/** The actor of every change the file makes, in the audit log. */
export const PROVISIONING_ACTOR = 'provisioning';

/** A secret the file left to be generated, shown once with the bootstrap's. */
export interface ProvisionedSecret {
  account: string;
  client_id?: string;
  username?: string;
  secret: string;
}

export interface ProvisioningDeps {
  config: Config;
  clientStore: ClientStore;
  /** The services, recording to `audit`. */
  servicesFor(audit: AuditService): { clients: ClientService; users: UserService };
  env: Record<string, string | undefined>;
}

const MIN_SECRET = 32;
const MIN_PASSWORD = 12;

const digest = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** The fields of a file client that `POST /clients` and `PATCH` know. */
function apiFields(client: ProvisionedClient, serviceUserId: string | null | undefined): CreateClientInput {
  const {
    client_id: _id,
    client_secret_env: _env,
    service_user: _user,
    disabled: _disabled,
    ...fields
  } = client;
  return definedOnly({ ...fields, service_user_id: serviceUserId }) as CreateClientInput;
}

/** Turns a service's refusal into the file's error, at the field it names. */
async function at<T>(where: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AppError) {
      throw new ProvisionFileError(error.field ? `${where}.${error.field}` : where, error.message);
    }
    throw error;
  }
}

/**
 * Treats "another process created it first" (a conflict on the record's own key) as done: the
 * file asks for what exists now.
 */
async function createOnce(
  key: string,
  create: () => Promise<unknown>,
  exists?: () => Promise<boolean>,
): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (error) {
    if (error instanceof StoreConflictError && error.field === key) return false;
    // Another process applying the same file made this very record meanwhile, and a check that
    // counts records (an account's client cap) counted it: the record is there, as intended.
    if (exists && (await exists())) return false;
    throw error;
  }
}

/**
 * Applies `TESSERA_PROVISION_FILE` (contract section 11): the whole file is checked first, and a
 * bad one changes nothing. Then accounts, users and clients missing from the store are created
 * and present ones get the declared fields; nothing absent from the file is touched. An
 * unchanged file writes nothing. Processes applying one file at once reach the result of one:
 * creates are unique in the store, and every audit entry's id is derived from the change and
 * the record it changed, so the same change is recorded once.
 */
export function createProvisioning(deps: ProvisioningDeps) {
  const { clientStore, config, env } = deps;

  /** Services whose audit entries are keyed by `before` (the record as read before the change). */
  const servicesKeyedBy = (before: unknown) => {
    const seed = digest(before);
    const audit = createAuditService({
      clientStore,
      idFor: (entry) => {
        const hex = digest([entry, seed]);
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
      },
    });
    return { audit, ...deps.servicesFor(audit) };
  };

  const principalFor = (accountId: string): Principal => ({
    accountId,
    actor: PROVISIONING_ACTOR,
    clientId: PROVISIONING_ACTOR,
    userId: null,
    scopes: new Set(),
  });

  // Checks write nothing, so their audit service is never called.
  const { clients } = deps.servicesFor(createAuditService({ clientStore }));

  /** The value of the variable `name` names, at least `min` characters long. */
  function secretFrom(where: string, name: string | undefined, min: number): string | undefined {
    if (name === undefined) return undefined;
    const value = env[name];
    if (value === undefined || value === '')
      throw new ProvisionFileError(where, `variable ${name} is not set`);
    if (value.length < min) {
      throw new ProvisionFileError(where, `variable ${name} must hold at least ${min} characters`);
    }
    return value;
  }

  /**
   * One client of the file, against the store and the client service's rules; true when it is
   * new (it counts towards the account's cap).
   */
  async function checkClient(
    account: ProvisionedAccount,
    client: ProvisionedClient,
    place: string,
    usernames: ReadonlySet<string>,
    accountStored: boolean,
  ): Promise<boolean> {
    const nameKey = client.client_name.toLowerCase();
    const method = client.token_endpoint_auth_method ?? 'client_secret_basic';
    if (client.client_secret_env !== undefined && !SECRET_AUTH_METHODS.has(method)) {
      throw new ProvisionFileError(`${place}.client_secret_env`, `a ${method} client has no secret`);
    }
    secretFrom(`${place}.client_secret_env`, client.client_secret_env, MIN_SECRET);
    if (client.service_user !== undefined && client.service_user_id !== undefined) {
      throw new ProvisionFileError(`${place}.service_user`, 'give service_user or service_user_id, not both');
    }
    // A service user the file creates has no id yet: its rules are checked here, the
    // client's other fields by the client service below.
    let serviceUserId = client.service_user_id;
    if (client.service_user !== undefined) {
      const existing = await clientStore.findUserByUsername(account.id, client.service_user);
      if (!existing && !usernames.has(client.service_user.toLowerCase())) {
        throw new ProvisionFileError(
          `${place}.service_user`,
          `no user "${client.service_user}" in account ${account.id}`,
        );
      }
      if (!(client.grant_types ?? ['client_credentials']).includes('client_credentials')) {
        throw new ProvisionFileError(
          `${place}.service_user`,
          'service_user is for client_credentials clients',
        );
      }
      serviceUserId = existing?.id ?? null;
    }
    const fields = apiFields(client, serviceUserId);
    const current = await clientStore.getClient(client.client_id);
    if (current && current.account_id !== account.id) {
      throw new ProvisionFileError(
        `${place}.client_id`,
        `client "${client.client_id}" belongs to another account`,
      );
    }
    const namesake = accountStored
      ? (await clientStore.listClients(account.id, { limit: 100, q: client.client_name })).data.find(
          (other) => other.client_name.toLowerCase() === nameKey && other.client_id !== client.client_id,
        )
      : undefined;
    if (namesake) {
      throw new ProvisionFileError(
        `${place}.client_name`,
        `client "${namesake.client_id}" of the account already has this client_name`,
      );
    }
    if (current) {
      await at(place, () =>
        clients.checkChange(current, { ...fields, ...definedOnly({ disabled: client.disabled }) }),
      );
      return false;
    }
    await at(place, () => clients.checkNew(account.id, fields, client.client_id));
    return true;
  }

  /** Everything that can be known wrong before a write: a bad file applies nothing. */
  async function check(file: ProvisionFile): Promise<void> {
    const accountIds = new Set<string>();
    const clientIds = new Set<string>();
    for (const [a, account] of file.accounts.entries()) {
      const where = `accounts[${a}]`;
      if (accountIds.has(account.id))
        throw new ProvisionFileError(`${where}.id`, `account "${account.id}" is declared twice`);
      accountIds.add(account.id);
      const stored = await clientStore.getAccount(account.id);

      const usernames = new Set<string>();
      for (const [u, user] of (account.users ?? []).entries()) {
        const at = `${where}.users[${u}]`;
        const key = user.username.toLowerCase();
        if (usernames.has(key))
          throw new ProvisionFileError(`${at}.username`, `user "${user.username}" is declared twice`);
        usernames.add(key);
        secretFrom(`${at}.password_env`, user.password_env, MIN_PASSWORD);
      }

      const names = new Set<string>();
      let added = 0;
      for (const [c, client] of (account.clients ?? []).entries()) {
        const place = `${where}.clients[${c}]`;
        if (clientIds.has(client.client_id)) {
          throw new ProvisionFileError(
            `${place}.client_id`,
            `client "${client.client_id}" is declared twice`,
          );
        }
        clientIds.add(client.client_id);
        if (BOOTSTRAP_CLIENTS.includes(client.client_id)) {
          throw new ProvisionFileError(
            `${place}.client_id`,
            `client "${client.client_id}" is managed by the bootstrap`,
          );
        }
        const nameKey = client.client_name.toLowerCase();
        if (names.has(nameKey)) {
          throw new ProvisionFileError(
            `${place}.client_name`,
            `client name "${client.client_name}" is declared twice`,
          );
        }
        names.add(nameKey);
        if (await checkClient(account, client, place, usernames, stored !== null)) added += 1;
      }
      const cap =
        (account.max_clients !== undefined ? account.max_clients : stored?.max_clients) ??
        config.maxClientsPerAccount;
      const held = stored ? await clientStore.countClients(account.id) : 0;
      if (held + added > cap) {
        throw new ProvisionFileError(`${where}.clients`, `the account may hold at most ${cap} clients`);
      }
    }
  }

  async function applyAccount(account: ProvisionedAccount, principal: Principal): Promise<void> {
    const stored = await clientStore.getAccount(account.id);
    const { audit } = servicesKeyedBy(stored);
    if (!stored) {
      const now = new Date().toISOString();
      const created = await createOnce('account_id', () =>
        clientStore.createAccount({
          id: account.id,
          name: account.name,
          max_clients: account.max_clients ?? null,
          created_at: now,
          updated_at: now,
        }),
      );
      if (created) {
        await audit.record(account.id, principal.actor, 'account.create', `account:${account.id}`, {
          name: account.name,
        });
      }
      return;
    }
    const patch = definedOnly({ name: account.name, max_clients: account.max_clients });
    const fields = definedFields(patch).filter(
      (field) => patch[field as keyof typeof patch] !== stored[field as keyof typeof stored],
    );
    if (fields.length === 0) return;
    await clientStore.updateAccount(account.id, { ...patch, updated_at: new Date().toISOString() });
    await audit.record(account.id, principal.actor, 'account.update', `account:${account.id}`, { fields });
  }

  async function applyUser(
    account: ProvisionedAccount,
    user: ProvisionedUser,
    principal: Principal,
    generated: ProvisionedSecret[],
  ): Promise<void> {
    const password = secretFrom('', user.password_env, MIN_PASSWORD);
    const stored: UserRecord | null = await clientStore.findUserByUsername(account.id, user.username);
    const { audit, users } = servicesKeyedBy(stored);
    if (!stored) {
      const chosen = password ?? generateSecret();
      let createdUser: UserRecord | undefined;
      const created = await createOnce('username', async () => {
        createdUser = await users.create({
          account_id: account.id,
          username: user.username,
          password: chosen,
          role: user.role,
          ...definedOnly({ email: user.email }),
        });
      });
      if (!created || !createdUser) return;
      await audit.record(account.id, principal.actor, 'user.create', `user:${createdUser.id}`, {
        username: createdUser.username,
        role: createdUser.role,
      });
      if (user.disabled) await users.update(principal, createdUser.id, { disabled: true });
      if (password === undefined)
        generated.push({ account: account.id, username: user.username, secret: chosen });
      return;
    }
    const declared = definedOnly({ role: user.role, email: user.email, disabled: user.disabled });
    const patch: Record<string, unknown> = Object.fromEntries(
      Object.entries(declared).filter(([field, value]) => stored[field as keyof UserRecord] !== value),
    );
    if (password !== undefined && !(await verifySecret(stored.password_hash, password)))
      patch.password = password;
    if (Object.keys(patch).length > 0) await users.update(principal, stored.id, patch);
  }

  async function applyClient(
    account: ProvisionedAccount,
    client: ProvisionedClient,
    principal: Principal,
    generated: ProvisionedSecret[],
  ): Promise<void> {
    const secret = secretFrom('', client.client_secret_env, MIN_SECRET);
    const serviceUserId =
      client.service_user === undefined
        ? client.service_user_id
        : ((await clientStore.findUserByUsername(account.id, client.service_user))?.id ?? null);
    const fields = apiFields(client, serviceUserId);
    const stored: ClientRecord | null = await clientStore.getClient(client.client_id);
    const { clients } = servicesKeyedBy(stored);
    if (!stored) {
      let result: Awaited<ReturnType<ClientService['register']>> | undefined;
      const created = await createOnce(
        'client_id',
        async () => {
          result = await clients.register(principal, fields, {
            clientId: client.client_id,
            ...definedOnly({ secret }),
          });
        },
        async () => (await clientStore.getClient(client.client_id)) !== null,
      );
      if (!created || !result) return;
      if (client.disabled) await clients.update(principal, client.client_id, { disabled: true });
      if (secret === undefined && result.secret !== null) {
        generated.push({ account: account.id, client_id: client.client_id, secret: result.secret });
      }
      return;
    }
    const patch: PatchClientInput = { ...fields, ...definedOnly({ disabled: client.disabled }) };
    if (clients.changedFields(stored, patch).length > 0)
      await clients.update(principal, client.client_id, patch);
    if (
      secret !== undefined &&
      SECRET_AUTH_METHODS.has(stored.token_endpoint_auth_method) &&
      !(await clients.holdsSecret(stored, secret))
    ) {
      await clients.rotateSecret(principal, client.client_id, { secret });
    }
  }

  return {
    /** Reads, checks and applies the file; returns the secrets it generated (to show once). */
    async apply(path: string): Promise<ProvisionedSecret[]> {
      let document: unknown;
      try {
        document = JSON.parse(readFileSync(path, 'utf8'));
      } catch (error) {
        throw new ProvisionFileError(
          '',
          error instanceof SyntaxError
            ? `is not valid JSON (${error.message})`
            : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        );
      }
      const file = parseProvisionFile(document);
      await check(file);
      const generated: ProvisionedSecret[] = [];
      for (const account of file.accounts) {
        const principal = principalFor(account.id);
        await applyAccount(account, principal);
        for (const user of account.users ?? []) await applyUser(account, user, principal, generated);
        for (const client of account.clients ?? []) await applyClient(account, client, principal, generated);
      }
      return generated;
    },
  };
}
