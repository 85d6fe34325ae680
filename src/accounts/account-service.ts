import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { AuditService } from '../audit/audit-service.js';
import type { ClientService } from '../clients/client-service.js';
import { notFound } from '../errors.js';
import { definedFields } from '../objects.js';
import type { AccountRecord, ClientStore, Page } from '../stores/client-store.js';

const accountFields = {
  name: z.string().trim().min(1).max(100),
  max_clients: z.number().int().min(1).max(1_000_000).nullable(),
};
export const createAccountSchema = z.strictObject({
  name: accountFields.name,
  max_clients: accountFields.max_clients.optional(),
});
export const patchAccountSchema = z.strictObject({
  name: accountFields.name.optional(),
  max_clients: accountFields.max_clients.optional(),
});

/** The account view: every stored field is public. */
export const accountView = (account: AccountRecord) => ({
  id: account.id,
  name: account.name,
  max_clients: account.max_clients,
  created_at: account.created_at,
  updated_at: account.updated_at,
});

export function createAccountService(deps: {
  clientStore: ClientStore;
  clients: ClientService;
  audit: AuditService;
}) {
  const { clientStore, clients, audit } = deps;
  return {
    /** A new tenant with its own admin client (scope `admin`), whose secret is returned once. */
    async create(principal: Principal, input: z.infer<typeof createAccountSchema>) {
      const now = new Date().toISOString();
      const account: AccountRecord = {
        id: `acct_${randomBytes(9).toString('base64url')}`,
        name: input.name,
        max_clients: input.max_clients ?? null,
        created_at: now,
        updated_at: now,
      };
      await clientStore.createAccount(account);
      const { client, secret } = await clients.create({
        account_id: account.id,
        client_name: 'Tessera admin',
        description: 'Administration client of this account',
        grant_types: ['client_credentials'],
        scope: 'admin',
        token_endpoint_auth_method: 'client_secret_basic',
        first_party: true,
      });
      await audit.record(principal.accountId, principal.actor, 'account.create', `account:${account.id}`, {
        name: account.name,
      });
      await audit.record(account.id, principal.actor, 'client.create', `client:${client.client_id}`, {
        client_name: client.client_name,
        token_endpoint_auth_method: client.token_endpoint_auth_method,
        scope: client.scope,
      });
      return {
        account: accountView(account),
        admin_client: { client_id: client.client_id, client_secret: secret! },
      };
    },
    async list(options: { limit: number; cursor?: string }): Promise<Page<ReturnType<typeof accountView>>> {
      const page = await clientStore.listAccounts(options);
      return { data: page.data.map(accountView), next_cursor: page.next_cursor };
    },
    async get(accountId: string) {
      const account = await clientStore.getAccount(accountId);
      if (!account) throw notFound('no such account');
      return accountView(account);
    },
    async update(principal: Principal, accountId: string, patch: z.infer<typeof patchAccountSchema>) {
      const fields = definedFields(patch);
      const updated = await clientStore.updateAccount(accountId, {
        ...patch,
        updated_at: new Date().toISOString(),
      });
      if (!updated) throw notFound('no such account');
      await audit.record(principal.accountId, principal.actor, 'account.update', `account:${accountId}`, {
        fields,
      });
      return accountView(updated);
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
