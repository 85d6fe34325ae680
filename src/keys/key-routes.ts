import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { requireScope } from '../admin/admin-auth.js';
import { jsonBody, principalOf } from '../admin/request.js';
import { parseBody, seconds } from '../clients/client-schema.js';
import type { KeyService } from './key-service.js';

/** A rotation may be published ahead of signing, by up to a week. */
export const rotateKeysSchema = z.strictObject({ activate_in: seconds(0, 604800).optional() });

/** `/keys` of the admin API (contract section 12), for `accounts:admin` only. */
export function keyRoutes(keys: KeyService): Router {
  const router = new Router();
  const accountsAdmin = requireScope('accounts:admin');

  async function rotateKeys(ctx: Context) {
    const body = jsonBody(ctx);
    const options = body === undefined ? {} : parseBody(rotateKeysSchema, body, 'invalid_request');
    ctx.body = await keys.rotate(principalOf(ctx), options.activate_in);
    ctx.status = 201;
  }

  async function listKeys(ctx: Context) {
    ctx.body = await keys.list();
  }

  router.post('/keys/rotate', accountsAdmin, rotateKeys);
  router.get('/keys', accountsAdmin, listKeys);
  return router;
}
