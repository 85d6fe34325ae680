import Router from '@koa/router';
import type { Context } from 'koa';
import { requireScope } from '../admin/admin-auth.js';
import { jsonBody, listOptions, principalOf } from '../admin/request.js';
import { parseBody } from '../clients/client-schema.js';
import { createResourceSchema, patchResourceSchema, type ResourceService } from './resource-service.js';

/** `/resources` of the admin API (contract section 12): the account's resource servers. */
export function resourceRoutes(resources: ResourceService): Router {
  const router = new Router();
  const read = requireScope('admin', 'clients:read');
  const write = requireScope('admin', 'clients:write');

  async function createResource(ctx: Context) {
    const resource = await resources.create(
      principalOf(ctx),
      parseBody(createResourceSchema, jsonBody(ctx), 'invalid_request'),
    );
    ctx.status = 201;
    ctx.set('location', `/admin/api/resources/${encodeURIComponent(resource.id)}`);
    ctx.body = resource;
  }

  async function listResources(ctx: Context) {
    ctx.body = await resources.list(principalOf(ctx), listOptions(ctx.query));
  }

  async function getResource(ctx: Context) {
    ctx.body = await resources.get(principalOf(ctx), ctx.params.id!);
  }

  async function updateResource(ctx: Context) {
    const patch = parseBody(patchResourceSchema, jsonBody(ctx), 'invalid_request');
    ctx.body = await resources.update(principalOf(ctx), ctx.params.id!, patch);
  }

  async function deleteResource(ctx: Context) {
    await resources.remove(principalOf(ctx), ctx.params.id!);
    ctx.status = 204;
  }

  router.post('/resources', write, createResource);
  router.get('/resources', read, listResources);
  router.get('/resources/:id', read, getResource);
  router.patch('/resources/:id', write, updateResource);
  router.delete('/resources/:id', write, deleteResource);
  return router;
}
