import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type Provider from 'oidc-provider';
import { createAccountSchema, patchAccountSchema, type AccountService } from '../accounts/account-service.js';
import type { AuditService } from '../audit/audit-service.js';
import { createClientSchema, parseBody, patchClientSchema } from '../clients/client-schema.js';
import { clientView, type ClientService } from '../clients/client-service.js';
import { AppError, invalidRequest } from '../errors.js';
import type { CertificateSource } from '../pki/request-certificate.js';
import type { ClientStore } from '../stores/client-store.js';
import { createUserSchema, patchUserSchema, type UserService } from '../users/user-service.js';
import { adminAuth, requireScope, type Principal } from './admin-auth.js';

export interface AdminDeps {
  provider: Provider;
  clientStore: ClientStore;
  certificateSource: CertificateSource;
  clients: ClientService;
  audit: AuditService;
  accounts: AccountService;
  users: UserService;
}

/** `limit` and `cursor` of a listing: 1..100, default 20. */
function listOptions(query: Record<string, unknown>): { limit: number; cursor?: string } {
  const { limit = '20', cursor } = query;
  if (typeof limit !== 'string' || !/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 100) {
    throw invalidRequest('limit must be a whole number between 1 and 100');
  }
  if (cursor !== undefined && (typeof cursor !== 'string' || cursor === ''))
    throw invalidRequest('cursor must be a string');
  return { limit: Number(limit), ...(cursor ? { cursor } : {}) };
}

/** The parsed JSON body, or undefined when the request carried none (or not as JSON). */
function jsonBody(ctx: { request: { rawBody?: string; body?: unknown } }): unknown {
  return ctx.request.rawBody === undefined || ctx.request.rawBody === '' ? undefined : ctx.request.body;
}

/** The admin API of contract section 5, under `/admin/api`. */
export function adminRoutes(deps: AdminDeps): Router {
  const { clients, audit, accounts, users } = deps;
  const router = new Router({ prefix: '/admin/api' });
  const principal = (ctx: { state: { principal?: Principal } }) => ctx.state.principal!;

  router.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: '64kb',
      onError: () => {
        throw new AppError(400, 'invalid_request', 'the request body is not valid JSON');
      },
    }),
  );
  router.use(adminAuth(deps));
  router.use(async (ctx, next) => {
    ctx.set('cache-control', 'no-store');
    await next();
  });

  const read = requireScope('admin', 'clients:read');
  const write = requireScope('admin', 'clients:write');

  router.post('/clients', write, async (ctx) => {
    const input = parseBody(createClientSchema, jsonBody(ctx));
    const { client, secret, certificate } = await clients.register(principal(ctx), input);
    ctx.status = 201;
    ctx.set('location', `/admin/api/clients/${encodeURIComponent(client.client_id)}`);
    ctx.body = {
      client: clientView(client),
      ...(secret === null ? {} : { client_secret: secret }),
      ...(certificate ? { certificate } : {}),
    };
  });

  router.get('/clients', read, async (ctx) => {
    const { q } = ctx.query;
    if (q !== undefined && typeof q !== 'string') throw invalidRequest('q must be given once');
    ctx.body = await clients.list(principal(ctx), { ...listOptions(ctx.query), ...(q ? { q } : {}) });
  });

  router.get('/clients/:id', read, async (ctx) => {
    ctx.body = await clients.get(principal(ctx), ctx.params.id!);
  });

  router.patch('/clients/:id', write, async (ctx) => {
    const patch = parseBody(patchClientSchema, jsonBody(ctx));
    ctx.body = await clients.update(principal(ctx), ctx.params.id!, patch);
  });

  router.delete('/clients/:id', write, async (ctx) => {
    await clients.remove(principal(ctx), ctx.params.id!);
    ctx.status = 204;
  });

  router.post('/clients/:id/secret', write, async (ctx) => {
    ctx.body = { client_secret: await clients.rotateSecret(principal(ctx), ctx.params.id!) };
  });

  router.post('/clients/:id/certificate', write, async (ctx) => {
    ctx.body = await clients.issueCertificate(principal(ctx), ctx.params.id!);
    ctx.status = 201;
  });

  router.delete('/clients/:id/certificate/:serial', write, async (ctx) => {
    await clients.revokeCertificate(principal(ctx), ctx.params.id!, ctx.params.serial!);
    ctx.status = 204;
  });

  // The client CA (public): what resource servers and clients need to trust Tessera's certificates.
  router.get('/client-ca', read, (ctx) => {
    ctx.type = 'application/x-pem-file';
    ctx.body = clients.caCertificate();
  });

  const readUsers = requireScope('admin', 'users:read');
  const writeUsers = requireScope('admin', 'users:write');
  router.post('/users', writeUsers, async (ctx) => {
    const user = await users.register(
      principal(ctx),
      parseBody(createUserSchema, jsonBody(ctx), 'invalid_request'),
    );
    ctx.status = 201;
    ctx.set('location', `/admin/api/users/${encodeURIComponent(user.id)}`);
    ctx.body = user;
  });
  router.get('/users', readUsers, async (ctx) => {
    ctx.body = await users.list(principal(ctx), listOptions(ctx.query));
  });
  router.get('/users/:id', readUsers, async (ctx) => {
    ctx.body = await users.get(principal(ctx), ctx.params.id!);
  });
  router.patch('/users/:id', writeUsers, async (ctx) => {
    ctx.body = await users.update(
      principal(ctx),
      ctx.params.id!,
      parseBody(patchUserSchema, jsonBody(ctx), 'invalid_request'),
    );
  });
  router.delete('/users/:id', writeUsers, async (ctx) => {
    await users.remove(principal(ctx), ctx.params.id!);
    ctx.status = 204;
  });

  const accountsAdmin = requireScope('accounts:admin');
  router.post('/accounts', accountsAdmin, async (ctx) => {
    const input = parseBody(createAccountSchema, jsonBody(ctx), 'invalid_request');
    const created = await accounts.create(principal(ctx), input);
    ctx.status = 201;
    ctx.set('location', `/admin/api/accounts/${encodeURIComponent(created.account.id)}`);
    ctx.body = created;
  });
  router.get('/accounts', accountsAdmin, async (ctx) => {
    ctx.body = await accounts.list(listOptions(ctx.query));
  });
  router.get('/accounts/:id', accountsAdmin, async (ctx) => {
    ctx.body = await accounts.get(ctx.params.id!);
  });
  router.patch('/accounts/:id', accountsAdmin, async (ctx) => {
    const patch = parseBody(patchAccountSchema, jsonBody(ctx), 'invalid_request');
    ctx.body = await accounts.update(principal(ctx), ctx.params.id!, patch);
  });

  router.get('/audit', requireScope('admin'), async (ctx) => {
    ctx.body = await audit.list(principal(ctx).accountId, listOptions(ctx.query));
  });

  // Anything else under the prefix answers in the API's own error shape.
  router.all('/{*rest}', () => {
    throw new AppError(404, 'not_found', 'no such endpoint');
  });

  return router;
}
