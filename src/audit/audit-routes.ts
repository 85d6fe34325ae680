import Router from '@koa/router';
import type { Context } from 'koa';
import { requireScope } from '../admin/admin-auth.js';
import { listOptions, principalOf } from '../admin/request.js';
import type { AuditService } from './audit-service.js';

/** `/audit` of the admin API (contract section 5.4), for `admin` only. */
export function auditRoutes(audit: AuditService): Router {
  const router = new Router();

  async function listAudit(ctx: Context) {
    ctx.body = await audit.list(principalOf(ctx).accountId, listOptions(ctx.query));
  }

  router.get('/audit', requireScope('admin'), listAudit);
  return router;
}
