import Router from '@koa/router';
import type { Context } from 'koa';
import type { ConsoleDeps } from './console-routes.js';
import { cursorOption, nextPageLink } from './forms.js';
import { consoleOf, renderConsole, shortTime } from './render.js';

/** `/admin/audit`: the account's audit log, newest first, in pages. */
export function auditPages(deps: Pick<ConsoleDeps, 'audit'>): Router {
  const router = new Router();

  async function listAudit(ctx: Context) {
    const page = await deps.audit.list(consoleOf(ctx).principal.accountId, {
      limit: 50,
      ...cursorOption(ctx),
    });
    renderConsole(ctx, 'audit', {
      entries: page.data.map((e) => ({ ...e, time: shortTime(e.at) })),
      next: nextPageLink('/admin/audit', {}, page.next_cursor),
    });
  }

  router.get('/audit', listAudit);
  return router;
}
