import Router from '@koa/router';
import type { Context } from 'koa';
import type { ConsoleDeps } from './console-routes.js';
import { consoleOf, renderConsole, shortTime } from './render.js';

/** `/admin/audit`: the account's audit log, newest first, in pages. */
export function auditPages(deps: Pick<ConsoleDeps, 'audit'>): Router {
  const router = new Router();

  async function listAudit(ctx: Context) {
    const cursor = typeof ctx.query.cursor === 'string' && ctx.query.cursor ? ctx.query.cursor : undefined;
    const page = await deps.audit.list(consoleOf(ctx).principal.accountId, {
      limit: 50,
      ...(cursor ? { cursor } : {}),
    });
    renderConsole(ctx, 'audit', {
      entries: page.data.map((e) => ({ ...e, time: shortTime(e.at) })),
      next: page.next_cursor ? `/admin/audit?cursor=${encodeURIComponent(page.next_cursor)}` : null,
    });
  }

  router.get('/audit', listAudit);
  return router;
}
