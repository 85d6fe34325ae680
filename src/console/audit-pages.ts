import Router from '@koa/router';
import type { Context } from 'koa';
import type { ConsoleDeps } from './console-routes.js';
import { cursorOption, nextPageLink } from './forms.js';
import { auditRows, consoleOf, renderConsole } from './render.js';

/** `/admin/audit`: the account's audit log, newest first, in pages. */
export function auditPages(deps: Pick<ConsoleDeps, 'audit'>): Router {
  const router = new Router();

  async function listAudit(ctx: Context) {
    const { accountId } = consoleOf(ctx).principal;
    const page = await deps.audit.list(accountId, { limit: 50, ...cursorOption(ctx) });
    renderConsole(ctx, 'audit', {
      entries: await auditRows(deps.audit, accountId, page.data),
      next: nextPageLink('/admin/audit', {}, page.next_cursor),
    });
  }

  router.get('/audit', listAudit);
  return router;
}
