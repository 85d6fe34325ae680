import Router from '@koa/router';
import type { Context } from 'koa';
import type { ConsoleDeps } from './console-routes.js';
import { seeOther } from './forms.js';
import { consoleOf, renderConsole } from './render.js';
import type { ConsoleSessions, OneTimeEntry } from './session.js';

/** Puts `entry` in the session and sends the browser to the page that shows it once. */
export async function revealOnce(
  ctx: Context,
  sessions: ConsoleSessions,
  entry: OneTimeEntry,
): Promise<void> {
  const key = await sessions.putOneTime(consoleOf(ctx).session, entry);
  seeOther(ctx, `/admin/once/${key}`);
}

/**
 * `/admin/once/:key`: the page that shows a new secret, and the links that download a new
 * certificate and private key. Each part is deleted from the session as it is read, so a reload,
 * the back button or a second tab shows it never again.
 */
export function oneTimePages(deps: Pick<ConsoleDeps, 'sessions'>): Router {
  const { sessions } = deps;
  const router = new Router();

  async function showOnce(ctx: Context) {
    const { session } = consoleOf(ctx);
    const entry = await sessions.takeOneTime(session, ctx.params.key!, ['clientSecret']);
    const status = entry ? 200 : 410;
    renderConsole(
      ctx,
      'once',
      {
        key: ctx.params.key,
        heading: entry?.heading ?? 'Already shown',
        clientId: entry?.clientId ?? '',
        secret: entry?.taken.clientSecret ?? null,
        certificate: !!entry?.certificatePem,
        privateKey: !!entry?.privateKeyPem,
        nothingLeft: !entry,
        back: entry?.back ?? '/admin/clients',
      },
      status,
    );
  }

  const download = (part: 'certificatePem' | 'privateKeyPem', suffix: string) =>
    async function downloadOnce(ctx: Context) {
      const { session } = consoleOf(ctx);
      const entry = await sessions.takeOneTime(session, ctx.params.key!, [part]);
      const pem = entry?.taken[part];
      ctx.set('cache-control', 'no-store');
      if (!entry || !pem) {
        return renderConsole(
          ctx,
          'once',
          { heading: 'Already shown', nothingLeft: true, back: entry?.back ?? '/admin/clients' },
          410,
        );
      }
      ctx.type = 'application/x-pem-file';
      ctx.attachment(`${entry.clientId}.${suffix}.pem`);
      ctx.body = pem;
    };

  router.get('/once/:key', showOnce);
  router.get('/once/:key/certificate.pem', download('certificatePem', 'crt'));
  router.get('/once/:key/private-key.pem', download('privateKeyPem', 'key'));
  return router;
}
