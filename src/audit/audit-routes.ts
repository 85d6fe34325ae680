import Router from '@koa/router';
import type { Context } from 'koa';
import { requireScope } from '../admin/admin-auth.js';
import { listOptions, principalOf } from '../admin/request.js';
import { invalidRequest } from '../errors.js';
import type { AuditService } from './audit-service.js';

/** `/audit` of the admin API (contract section 5.4), for `admin` only. */
export function auditRoutes(audit: AuditService): Router {
  const router = new Router();

  async function listAudit(ctx: Context) {
    const { target } = ctx.query;
    if (target !== undefined && (typeof target !== 'string' || target === '')) {
      throw invalidRequest('target must be given once');
    }
    ctx.body = await audit.list(principalOf(ctx).accountId, {
      ...listOptions(ctx.query),
      ...(target ? { target } : {}),
    });
  }

  router.get('/audit', requireScope('admin'), listAudit);
  return router;
}
