import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { requireScope } from '../admin/admin-auth.js';
import { jsonBody, principalOf } from '../admin/request.js';
import { parseBody } from '../clients/client-schema.js';
import type { KeyService } from './key-service.js';

/** A rotation takes no options; a body, when sent, must be empty. */
const rotateSchema = z.strictObject({});

/** `/keys` of the admin API (contract section 12), for `accounts:admin` only. */
export function keyRoutes(keys: KeyService): Router {
  const router = new Router();
  const accountsAdmin = requireScope('accounts:admin');

  async function rotateKeys(ctx: Context) {
    const body = jsonBody(ctx);
    if (body !== undefined) parseBody(rotateSchema, body, 'invalid_request');
    ctx.status = 201;
    ctx.body = await keys.rotate(principalOf(ctx));
  }

  async function listKeys(ctx: Context) {
    ctx.body = await keys.list();
  }

  router.post('/keys/rotate', accountsAdmin, rotateKeys);
  router.get('/keys', accountsAdmin, listKeys);
  return router;
}
