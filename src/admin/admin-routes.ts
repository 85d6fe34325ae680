import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { accountRoutes } from '../accounts/account-routes.js';
import type { AccountService } from '../accounts/account-service.js';
import { auditRoutes } from '../audit/audit-routes.js';
import type { AuditService } from '../audit/audit-service.js';
import type { PrincipalService } from '../auth/principal.js';
import { clientRoutes } from '../clients/client-routes.js';
import type { ClientService } from '../clients/client-service.js';
import { AppError } from '../errors.js';
import type { CertificateSource } from '../pki/request-certificate.js';
import { userRoutes } from '../users/user-routes.js';
import type { UserService } from '../users/user-service.js';
import { exportRoutes, type ExportService } from '../provisioning/export.js';
import { resourceRoutes } from '../resources/resource-routes.js';
import type { ResourceService } from '../resources/resource-service.js';
import { keyRoutes } from '../keys/key-routes.js';
import type { KeyService } from '../keys/key-service.js';
import { adminAuth } from './admin-auth.js';

export interface AdminDeps {
  principals: PrincipalService;
  certificateSource: CertificateSource;
  clients: ClientService;
  audit: AuditService;
  accounts: AccountService;
  users: UserService;
  exports: ExportService;
  resources: ResourceService;
  keys: KeyService;
}

async function noStore(ctx: Context, next: Next) {
  ctx.set('cache-control', 'no-store');
  await next();
}

function unknownEndpoint(): never {
  throw new AppError(404, 'not_found', 'no such endpoint');
}

/** The admin API of contract section 5: one router per domain, nested under `/admin/api`. */
export function adminRoutes(deps: AdminDeps): Router {
  const router = new Router({ prefix: '/admin/api' });
  router.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: '64kb',
      onError: () => {
        throw new AppError(400, 'invalid_request', 'the request body is not valid JSON');
      },
    }),
  );
  router.use(adminAuth(deps), noStore);
  for (const domain of [
    clientRoutes(deps.clients),
    userRoutes(deps.users),
    accountRoutes(deps.accounts),
    auditRoutes(deps.audit),
    exportRoutes(deps.exports),
    resourceRoutes(deps.resources),
    keyRoutes(deps.keys),
  ]) {
    router.use(domain.routes());
  }
  // Anything else under the prefix answers in the API's own error shape.
  router.all('/', unknownEndpoint);
  router.all('/{*rest}', unknownEndpoint);
  return router;
}
