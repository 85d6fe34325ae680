import Router from '@koa/router';
import type { Context } from 'koa';
import { requireScope } from '../admin/admin-auth.js';
import { principalOf } from '../admin/request.js';
import type { Principal } from '../auth/principal.js';
import { BOOTSTRAP_CLIENTS } from '../bootstrap.js';
import { notFound } from '../errors.js';
import type { ClientRecord, ClientStore, Page, UserRecord } from '../stores/client-store.js';
import type { ProvisionedClient, ProvisionedUser, ProvisionFile } from './provision-file.js';

/** Every record of a paged listing. */
async function all<T>(list: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const records: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    records.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return records;
}

/** A client as the provisioning file declares it: no secret, hash, certificate or `*_env` name. */
function exportedClient(client: ClientRecord, usernames: Map<string, string>): ProvisionedClient {
  const serviceUser = client.service_user_id === null ? undefined : usernames.get(client.service_user_id);
  // The stored record holds what the schema's enums allow: it was checked when written.
  return {
    client_id: client.client_id,
    client_name: client.client_name,
    description: client.description,
    application_type: client.application_type,
    grant_types: [...client.grant_types],
    redirect_uris: [...client.redirect_uris],
    post_logout_redirect_uris: [...client.post_logout_redirect_uris],
    backchannel_logout_uri: client.backchannel_logout_uri,
    scope: client.scope,
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    access_token_ttl: client.access_token_ttl,
    first_party: client.first_party,
    require_consent: client.require_consent,
    tls_client_certificate_bound_access_tokens: client.tls_client_certificate_bound_access_tokens,
    ...(client.jwks ? { jwks: client.jwks } : {}),
    ...(serviceUser ? { service_user: serviceUser } : {}),
    disabled: client.disabled,
  } as ProvisionedClient;
}

const exportedUser = (user: UserRecord): ProvisionedUser => ({
  username: user.username,
  ...(user.email ? { email: user.email } : {}),
  role: user.role,
  disabled: user.disabled,
});

/** `GET /admin/api/export`: the caller's account in the provisioning file's format (contract 11). */
export function createExportService(deps: { clientStore: ClientStore }) {
  const { clientStore } = deps;
  return {
    async exportAccount(principal: Principal): Promise<ProvisionFile> {
      const account = await clientStore.getAccount(principal.accountId);
      if (!account) throw notFound('no such account');
      const users = await all((cursor) => clientStore.listUsers(account.id, { limit: 100, cursor }));
      const clients = await all((cursor) => clientStore.listClients(account.id, { limit: 100, cursor }));
      const usernames = new Map(users.map((user) => [user.id, user.username]));
      // Oldest first, as a hand-written file would list them.
      return {
        accounts: [
          {
            id: account.id,
            name: account.name,
            max_clients: account.max_clients,
            // The bootstrap makes its own clients on every deployment, for that deployment.
            clients: clients
              .reverse()
              .filter((client) => !BOOTSTRAP_CLIENTS.includes(client.client_id))
              .map((client) => exportedClient(client, usernames)),
            users: users.reverse().map(exportedUser),
          },
        ],
      };
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;

export function exportRoutes(exports: ExportService): Router {
  const router = new Router();
  async function exportAccount(ctx: Context) {
    ctx.body = await exports.exportAccount(principalOf(ctx));
  }
  router.get('/export', requireScope('admin'), exportAccount);
  return router;
}
