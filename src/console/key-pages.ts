import Router from '@koa/router';
import type { Context } from 'koa';
import { parseBody } from '../clients/client-schema.js';
import { rotateKeysSchema } from '../keys/key-routes.js';
import { definedOnly } from '../objects.js';
import { accountsAdmin } from './account-pages.js';
import type { ConsoleDeps } from './console-routes.js';
import { attempt, formOf, seeOther, text, wholeNumber, type FormError } from './forms.js';
import { consoleOf, renderConsole, shortTime } from './render.js';

/** `/admin/keys`: the signing keys and their rotation, for administrators of account `default`. */
export function keyPages(deps: Pick<ConsoleDeps, 'keys'>): Router {
  const router = new Router();

  async function keysPage(ctx: Context, refused?: { error: FormError; value: string; status: number }) {
    const { data } = await deps.keys.list();
    renderConsole(
      ctx,
      'keys',
      {
        keys: data.map((key) => ({
          ...key,
          activates: key.activates_at ? shortTime(key.activates_at) : 'Before dates were kept',
          retires: key.retires_at ? shortTime(key.retires_at) : '—',
        })),
        refused: refused ?? null,
        notice: ctx.query.done ?? null,
      },
      refused?.status ?? 200,
    );
  }

  async function showKeys(ctx: Context) {
    await keysPage(ctx);
  }

  async function rotateKeys(ctx: Context) {
    const form = formOf(ctx);
    const outcome = await attempt(async () => {
      const options = parseBody(
        rotateKeysSchema,
        definedOnly({ activate_in: wholeNumber(form, 'activate_in') }),
        'invalid_request',
      );
      return deps.keys.rotate(consoleOf(ctx).principal, options.activate_in);
    });
    if ('error' in outcome) {
      return keysPage(ctx, {
        error: outcome.error,
        value: text(form, 'activate_in'),
        status: outcome.status,
      });
    }
    seeOther(ctx, '/admin/keys?done=rotated');
  }

  router.get('/keys', accountsAdmin, showKeys);
  router.post('/keys/rotate', accountsAdmin, rotateKeys);
  return router;
}
