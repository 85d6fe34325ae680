import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { requireScope } from '../admin/admin-auth.js';
import { createAccountSchema } from '../accounts/account-service.js';
import { parseBody } from '../clients/client-schema.js';
import { definedOnly } from '../objects.js';
import type { ConsoleDeps } from './console-routes.js';
import { attempt, cursorOption, formOf, nextPageLink, text, wholeNumber, type FormError } from './forms.js';
import { revealOnce } from './one-time-pages.js';
import { consoleOf, renderConsole, shortTime } from './render.js';

/** The admin API's own `accounts:admin` check, on the console's principal: administrators of `default` only. */
export async function accountsAdmin(ctx: Context, next: Next) {
  ctx.state.principal = consoleOf(ctx).principal;
  await requireScope('accounts:admin')(ctx, next);
}

/** `/admin/accounts`: tenants, for administrators of account `default` (scope `accounts:admin`). */
export function accountPages(deps: Pick<ConsoleDeps, 'accounts' | 'sessions'>): Router {
  const { accounts, sessions } = deps;
  const router = new Router();

  async function listAccounts(ctx: Context) {
    const page = await accounts.list({ limit: 25, ...cursorOption(ctx) });
    renderConsole(ctx, 'accounts', {
      accounts: page.data.map((a) => ({ ...a, created: shortTime(a.created_at) })),
      next: nextPageLink('/admin/accounts', {}, page.next_cursor),
    });
  }

  function accountForm(
    ctx: Context,
    values = { name: '', max_clients: '' },
    error: FormError | null = null,
    status = 200,
  ) {
    renderConsole(ctx, 'account-form', { values, error }, status);
  }

  async function showAccountForm(ctx: Context) {
    accountForm(ctx);
  }

  async function createAccount(ctx: Context) {
    const form = formOf(ctx);
    const values = { name: text(form, 'name'), max_clients: text(form, 'max_clients') };
    const { principal } = consoleOf(ctx);
    const outcome = await attempt(() =>
      accounts.create(
        principal,
        parseBody(
          createAccountSchema,
          definedOnly({ name: values.name, max_clients: wholeNumber(form, 'max_clients') }),
          'invalid_request',
        ),
      ),
    );
    if ('error' in outcome) return accountForm(ctx, values, outcome.error, outcome.status);
    await revealOnce(ctx, sessions, {
      heading: 'Account created',
      clientId: outcome.ok.admin_client.client_id,
      clientSecret: outcome.ok.admin_client.client_secret,
      certificatePem: null,
      privateKeyPem: null,
      back: '/admin/accounts',
    });
  }

  router.get('/accounts', accountsAdmin, listAccounts);
  router.get('/accounts/new', accountsAdmin, showAccountForm);
  router.post('/accounts', accountsAdmin, createAccount);
  return router;
}
