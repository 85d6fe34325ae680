import type Router from '@koa/router';
import { requireScope } from '../admin/admin-auth.js';
import { collectionRoutes } from '../admin/crud-routes.js';
import { createResourceSchema, patchResourceSchema, type ResourceService } from './resource-service.js';

/** `/resources` of the admin API (contract section 12): the account's resource servers. */
export function resourceRoutes(resources: ResourceService): Router {
  return collectionRoutes({
    name: 'resources',
    collection: resources,
    createSchema: createResourceSchema,
    patchSchema: patchResourceSchema,
    read: requireScope('admin', 'clients:read'),
    write: requireScope('admin', 'clients:write'),
  });
}
