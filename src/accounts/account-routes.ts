import Router from '@koa/router';
import type { Context } from 'koa';
import { requireScope } from '../admin/admin-auth.js';
import { jsonBody, listOptions, principalOf } from '../admin/request.js';
import { parseBody } from '../clients/client-schema.js';
import { createAccountSchema, patchAccountSchema, type AccountService } from './account-service.js';

/** `/accounts` of the admin API (contract section 5.3), for `accounts:admin` only. */
export function accountRoutes(accounts: AccountService): Router {
  const router = new Router();
  const accountsAdmin = requireScope('accounts:admin');

  async function createAccount(ctx: Context) {
    const input = parseBody(createAccountSchema, jsonBody(ctx), 'invalid_request');
    const created = await accounts.create(principalOf(ctx), input);
    ctx.status = 201;
    ctx.set('location', `/admin/api/accounts/${encodeURIComponent(created.account.id)}`);
    ctx.body = created;
  }

  async function listAccounts(ctx: Context) {
    ctx.body = await accounts.list(listOptions(ctx.query));
  }

  async function getAccount(ctx: Context) {
    ctx.body = await accounts.get(ctx.params.id!);
  }

  async function updateAccount(ctx: Context) {
    const patch = parseBody(patchAccountSchema, jsonBody(ctx), 'invalid_request');
    ctx.body = await accounts.update(principalOf(ctx), ctx.params.id!, patch);
  }

  router.post('/accounts', accountsAdmin, createAccount);
  router.get('/accounts', accountsAdmin, listAccounts);
  router.get('/accounts/:id', accountsAdmin, getAccount);
  router.patch('/accounts/:id', accountsAdmin, updateAccount);
  return router;
}
