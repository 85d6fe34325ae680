import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { parseBody } from '../clients/client-schema.js';
import type { Page } from '../stores/client-store.js';
import { jsonBody, listOptions, principalOf } from './request.js';

/** A collection of one account's records, as its service offers it. */
export interface Collection<V extends { id: string }, C, P> {
  create(principal: Principal, input: C): Promise<V>;
  list(principal: Principal, options: { limit: number; cursor?: string }): Promise<Page<V>>;
  get(principal: Principal, id: string): Promise<V>;
  update(principal: Principal, id: string, patch: P): Promise<V>;
  remove(principal: Principal, id: string): Promise<void>;
}

/**
 * `POST /<name>`, `GET /<name>`, `GET`/`PATCH`/`DELETE /<name>/{id}` over a collection, with
 * bodies checked by its schemas (every problem `400 invalid_request`).
 */
export function collectionRoutes<V extends { id: string }, C, P>(options: {
  name: string;
  collection: Collection<V, C, P>;
  createSchema: z.ZodType<C>;
  patchSchema: z.ZodType<P>;
  read: Middleware;
  write: Middleware;
}): Router {
  const { name, collection, read, write } = options;
  const router = new Router();

  async function createRecord(ctx: Context) {
    const created = await collection.create(
      principalOf(ctx),
      parseBody(options.createSchema, jsonBody(ctx), 'invalid_request'),
    );
    ctx.status = 201;
    ctx.set('location', `/admin/api/${name}/${encodeURIComponent(created.id)}`);
    ctx.body = created;
  }

  async function listRecords(ctx: Context) {
    ctx.body = await collection.list(principalOf(ctx), listOptions(ctx.query));
  }

  async function getRecord(ctx: Context) {
    ctx.body = await collection.get(principalOf(ctx), ctx.params.id!);
  }

  async function updateRecord(ctx: Context) {
    const patch = parseBody(options.patchSchema, jsonBody(ctx), 'invalid_request');
    ctx.body = await collection.update(principalOf(ctx), ctx.params.id!, patch);
  }

  async function deleteRecord(ctx: Context) {
    await collection.remove(principalOf(ctx), ctx.params.id!);
    ctx.status = 204;
  }

  router.post(`/${name}`, write, createRecord);
  router.get(`/${name}`, read, listRecords);
  router.get(`/${name}/:id`, read, getRecord);
  router.patch(`/${name}/:id`, write, updateRecord);
  router.delete(`/${name}/:id`, write, deleteRecord);
  return router;
}
