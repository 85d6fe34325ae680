import type Router from '@koa/router';
import { requireScope } from '../admin/admin-auth.js';
import { collectionRoutes } from '../admin/crud-routes.js';
import { createUserSchema, patchUserSchema, type UserService } from './user-service.js';

/** `/users` of the admin API (contract section 5.2). */
export function userRoutes(users: UserService): Router {
  return collectionRoutes({
    name: 'users',
    // `register` is the API's create: audited, in the caller's account.
    collection: { ...users, create: users.register },
    createSchema: createUserSchema,
    patchSchema: patchUserSchema,
    read: requireScope('admin', 'users:read'),
    write: requireScope('admin', 'users:write'),
  });
}
