import Router from '@koa/router';
import type { Context } from 'koa';
import { requireScope } from '../admin/admin-auth.js';
import { jsonBody, listOptions, principalOf } from '../admin/request.js';
import { parseBody } from '../clients/client-schema.js';
import { createUserSchema, patchUserSchema, type UserService } from './user-service.js';

/** `/users` of the admin API (contract section 5.2). */
export function userRoutes(users: UserService): Router {
  const router = new Router();
  const read = requireScope('admin', 'users:read');
  const write = requireScope('admin', 'users:write');

  async function createUser(ctx: Context) {
    const user = await users.register(
      principalOf(ctx),
      parseBody(createUserSchema, jsonBody(ctx), 'invalid_request'),
    );
    ctx.status = 201;
    ctx.set('location', `/admin/api/users/${encodeURIComponent(user.id)}`);
    ctx.body = user;
  }

  async function listUsers(ctx: Context) {
    ctx.body = await users.list(principalOf(ctx), listOptions(ctx.query));
  }

  async function getUser(ctx: Context) {
    ctx.body = await users.get(principalOf(ctx), ctx.params.id!);
  }

  async function updateUser(ctx: Context) {
    const patch = parseBody(patchUserSchema, jsonBody(ctx), 'invalid_request');
    ctx.body = await users.update(principalOf(ctx), ctx.params.id!, patch);
  }

  async function deleteUser(ctx: Context) {
    await users.remove(principalOf(ctx), ctx.params.id!);
    ctx.status = 204;
  }

  router.post('/users', write, createUser);
  router.get('/users', read, listUsers);
  router.get('/users/:id', read, getUser);
  router.patch('/users/:id', write, updateUser);
  router.delete('/users/:id', write, deleteUser);
  return router;
}
