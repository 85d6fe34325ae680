import type { Config } from './config.js';
import { generateSecret } from './crypto/secrets.js';
import { StoreConflictError } from './errors.js';
import type { ClientService } from './clients/client-service.js';
import type { ClientStore } from './stores/client-store.js';
import type { UserService } from './users/user-service.js';
import type { ProvisionedSecret } from './provisioning/provisioning.js';

export const DEFAULT_ACCOUNT_ID = 'default';
export const ADMIN_CLIENT_ID = 'tessera-admin';
export const CONSOLE_CLIENT_ID = 'tessera-console';
export const ADMIN_USERNAME = 'admin';
/** The clients the bootstrap creates and keeps in line with the deployment. */
export const BOOTSTRAP_CLIENTS: readonly string[] = [ADMIN_CLIENT_ID, CONSOLE_CLIENT_ID];

interface BootstrapDeps {
  config: Config;
  clientStore: ClientStore;
  clients: ClientService;
  users: UserService;
}

/** Credentials generated during this start; empty when nothing was generated. */
export interface GeneratedCredentials {
  adminClientSecret?: string;
  adminPassword?: string;
  /** Secrets the provisioning file left to be generated, for what it created. */
  provisioned?: ProvisionedSecret[];
}

/** What the console asks for: who signed in, and the admin API as far as the user's role allows. */
export const CONSOLE_SCOPE = 'openid profile email admin accounts:admin';

/** The console client's settings that follow the deployment's configuration. */
const consoleClient = (config: Config) => ({
  scope: CONSOLE_SCOPE,
  redirect_uris: [`${config.issuer}/admin/callback`],
});

/** Treats "someone else created it first" (another process starting at once) as done. */
async function createOnce(create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (error) {
    if (error instanceof StoreConflictError) return false;
    throw error;
  }
}

/**
 * Creates, once, what contract section 4 names: account `default`, the `tessera-admin` client,
 * the `admin` user and the `tessera-console` client. Each item is created only if absent, so a
 * later start changes nothing and an interrupted first start is completed by the next one.
 */
export async function bootstrap(deps: BootstrapDeps): Promise<GeneratedCredentials> {
  const { config, clientStore, clients, users } = deps;
  const generated: GeneratedCredentials = {};

  if (!(await clientStore.getAccount(DEFAULT_ACCOUNT_ID))) {
    const now = new Date().toISOString();
    await createOnce(() =>
      clientStore.createAccount({
        id: DEFAULT_ACCOUNT_ID,
        name: 'Default',
        max_clients: null,
        created_at: now,
        updated_at: now,
      }),
    );
  }

  if (!(await clientStore.getClient(ADMIN_CLIENT_ID))) {
    const secret = config.adminClientSecret ?? generateSecret();
    const created = await createOnce(() =>
      clients.create({
        client_id: ADMIN_CLIENT_ID,
        account_id: DEFAULT_ACCOUNT_ID,
        client_name: 'Tessera admin',
        description: 'Bootstrap administration client',
        grant_types: ['client_credentials'],
        scope: 'admin accounts:admin',
        token_endpoint_auth_method: 'client_secret_basic',
        first_party: true,
        secret,
      }),
    );
    if (created && !config.adminClientSecret) generated.adminClientSecret = secret;
  }

  if (!(await clientStore.findUserByUsername(DEFAULT_ACCOUNT_ID, ADMIN_USERNAME))) {
    const password = config.adminPassword ?? generateSecret();
    const created = await createOnce(() =>
      users.create({ account_id: DEFAULT_ACCOUNT_ID, username: ADMIN_USERNAME, password, role: 'admin' }),
    );
    if (created && !config.adminPassword) generated.adminPassword = password;
  }

  // The console's own client follows the deployment: its callback is under the current ISSUER.
  const consoleSettings = consoleClient(config);
  const current = await clientStore.getClient(CONSOLE_CLIENT_ID);
  if (!current) {
    await createOnce(() =>
      clients.create({
        client_id: CONSOLE_CLIENT_ID,
        account_id: DEFAULT_ACCOUNT_ID,
        client_name: 'Tessera console',
        description: 'Admin console (authorization code with PKCE)',
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        first_party: true,
        ...consoleSettings,
      }),
    );
  } else if (
    current.scope !== consoleSettings.scope ||
    JSON.stringify(current.redirect_uris) !== JSON.stringify(consoleSettings.redirect_uris)
  ) {
    await clientStore.updateClient(CONSOLE_CLIENT_ID, {
      ...consoleSettings,
      updated_at: new Date().toISOString(),
    });
  }

  return generated;
}

/** The one marked block that shows generated credentials; null when there are none. */
export function formatGeneratedCredentials(generated: GeneratedCredentials): string | null {
  const lines: string[] = [];
  if (generated.adminClientSecret) {
    lines.push(`  client_id:     ${ADMIN_CLIENT_ID}`, `  client_secret: ${generated.adminClientSecret}`);
  }
  if (generated.adminPassword) {
    lines.push(`  username:      ${ADMIN_USERNAME}`, `  password:      ${generated.adminPassword}`);
  }
  for (const item of generated.provisioned ?? []) {
    lines.push(`  account:       ${item.account}`);
    if (item.client_id) lines.push(`  client_id:     ${item.client_id}`, `  client_secret: ${item.secret}`);
    if (item.username) lines.push(`  username:      ${item.username}`, `  password:      ${item.secret}`);
  }
  if (lines.length === 0) return null;
  const rule = '='.repeat(72);
  return [
    rule,
    'TESSERA BOOTSTRAP CREDENTIALS - shown this once, never again. Store them now.',
    rule,
    ...lines,
    rule,
    '',
  ].join('\n');
}
