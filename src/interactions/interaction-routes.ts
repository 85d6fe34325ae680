import { createHmac, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { Eta } from 'eta';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { SecretChecksBusyError, type SecretChecker } from '../crypto/secret-checker.js';
import type { ClientStore } from '../stores/client-store.js';
import type { TokenStore } from '../stores/token-store.js';

/** `views/` at the top of the project, from `src/` and from `dist/src/` alike. */
const VIEWS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../'.repeat(import.meta.url.includes('/dist/') ? 3 : 2),
  'views',
);

/** The page renderer: Eta escapes every `<%= %>` interpolation by default. */
export const views = new Eta({ views: VIEWS, cache: true });

export interface InteractionDeps {
  provider: Provider;
  clientStore: ClientStore;
  /** Key for the forms' CSRF tokens (one of the shared cookie keys, so every node agrees). */
  csrfKey: string;
  /** Where failed sign-ins are counted, shared by every node. */
  tokenStore: TokenStore;
  /** Password checks, within the process's argon2 limits. */
  secrets: SecretChecker;
}

/** Failed sign-ins allowed per window before the form answers 429. */
export const LOGIN_LIMITS = { perUsername: 5, perAddress: 20, windowSeconds: 15 * 60 } as const;

/** Renders an HTML error page; nothing from the request is shown unescaped. */
export function renderErrorPage(ctx: Context, status: number, error: string, description?: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.body = views.render('./error', { error, description });
}

/**
 * Tessera's login and consent pages (server-rendered forms that work without JavaScript), at the
 * path oidc-provider sends the browser to: `/interaction/:uid`.
 */
export function interactionRoutes(deps: InteractionDeps): Router {
  const { provider, clientStore } = deps;
  const router = new Router({ prefix: '/interaction' });

  // A form token bound to this interaction: the interaction cookie ties it to the browser,
  // and a cross-site page cannot know the uid, so it cannot forge either.
  const csrfFor = (uid: string) =>
    createHmac('sha256', deps.csrfKey).update(`interaction:${uid}`).digest('base64url');
  const csrfOk = (uid: string, presented: unknown) => {
    const expected = Buffer.from(csrfFor(uid));
    const given = Buffer.from(typeof presented === 'string' ? presented : '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const page = (ctx: Context, name: string, data: Record<string, unknown>, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = views.render(`./${name}`, data);
  };

  /** The interaction this browser is in, matching the URL; null after an error page was rendered. */
  const details = async (ctx: Context) => {
    try {
      const found = await provider.interactionDetails(ctx.req, ctx.res);
      if (found.uid !== ctx.params.uid) throw new Error('uid mismatch');
      return found;
    } catch {
      renderErrorPage(
        ctx,
        400,
        'invalid_request',
        'This sign-in request has expired or does not belong to this browser. Start again from the application.',
      );
      return null;
    }
  };

  /** A posted form of this browser's interaction with a valid CSRF token; null after an error page. */
  const submission = async (ctx: Context) => {
    const interaction = await details(ctx);
    if (!interaction) return null;
    const form = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (!csrfOk(interaction.uid, form.csrf)) {
      renderErrorPage(ctx, 403, 'invalid_request', 'The form has expired. Start again.');
      return null;
    }
    return { interaction, form };
  };

  const clientName = async (clientId: unknown) => {
    const client = typeof clientId === 'string' ? await clientStore.getClient(clientId) : null;
    return { client, name: client?.client_name ?? 'the application' };
  };

  const finish = async (
    ctx: Context,
    result: Parameters<Provider['interactionResult']>[2],
    merge: boolean,
  ) => {
    const target = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: merge,
    });
    ctx.status = 303;
    ctx.redirect(target);
  };

  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }));

  router.get('/:uid', async (ctx) => {
    const interaction = await details(ctx);
    if (!interaction) return;
    const { name } = await clientName(interaction.params.client_id);
    const csrf = csrfFor(interaction.uid);
    if (interaction.prompt.name === 'login') {
      page(ctx, 'login', { uid: interaction.uid, clientName: name, csrf, username: '', error: null });
      return;
    }
    const user = interaction.session?.accountId
      ? await clientStore.getUser(interaction.session.accountId)
      : null;
    const missing = (interaction.prompt.details.missingOIDCScope as string[] | undefined) ?? [];
    page(ctx, 'consent', {
      uid: interaction.uid,
      clientName: name,
      csrf,
      username: user?.username ?? '',
      scopes: missing,
    });
  });

  router.post('/:uid/login', async (ctx) => {
    const submitted = await submission(ctx);
    if (!submitted) return;
    const { interaction, form } = submitted;
    const { client, name } = await clientName(interaction.params.client_id);
    const username = typeof form.username === 'string' ? form.username.slice(0, 64) : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const loginPage = (status: number, error: string) =>
      page(
        ctx,
        'login',
        { uid: interaction.uid, clientName: name, csrf: csrfFor(interaction.uid), username, error },
        status,
      );

    const throttleKeys = [
      `login:user:${client?.account_id ?? '-'}:${username.toLowerCase()}`,
      `login:addr:${ctx.ip}`,
    ] as const;
    const [byUser = 0, byAddress = 0] = await Promise.all(
      throttleKeys.map((key) => deps.tokenStore.readCounter(key)),
    );
    // Checked before the password, so a flood of guesses costs no argon2 work.
    if (byUser >= LOGIN_LIMITS.perUsername || byAddress >= LOGIN_LIMITS.perAddress) {
      ctx.set('retry-after', String(LOGIN_LIMITS.windowSeconds));
      return loginPage(429, 'Too many failed sign-in attempts. Wait a few minutes and try again.');
    }

    const user =
      client && username ? await clientStore.findUserByUsername(client.account_id, username) : null;
    // Same answer for an unknown user, a wrong password and a disabled user: no enumeration.
    let ok: boolean;
    try {
      ok =
        !!user &&
        !user.disabled &&
        password.length > 0 &&
        (await deps.secrets.checkPassword(user.id, user.password_hash, password));
    } catch (error) {
      if (!(error instanceof SecretChecksBusyError)) throw error;
      ctx.set('retry-after', '1');
      return loginPage(503, 'The server is busy. Try again in a moment.');
    }
    if (!ok) {
      await Promise.all(
        throttleKeys.map((key) => deps.tokenStore.incrementCounter(key, LOGIN_LIMITS.windowSeconds)),
      );
      return loginPage(401, 'Invalid username or password.');
    }
    await deps.tokenStore.resetCounter(throttleKeys[0]);
    await finish(ctx, { login: { accountId: user!.id } }, false);
  });

  router.post('/:uid/confirm', async (ctx) => {
    const submitted = await submission(ctx);
    if (!submitted) return;
    const { interaction } = submitted;
    const accountId = interaction.session?.accountId;
    const clientId = String(interaction.params.client_id);
    if (interaction.prompt.name !== 'consent' || !accountId) {
      return renderErrorPage(ctx, 400, 'invalid_request', 'There is nothing to confirm.');
    }
    const grant = interaction.grantId
      ? ((await provider.Grant.find(interaction.grantId)) ?? new provider.Grant({ accountId, clientId }))
      : new provider.Grant({ accountId, clientId });
    const missing = interaction.prompt.details;
    if (Array.isArray(missing.missingOIDCScope)) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (Array.isArray(missing.missingOIDCClaims)) grant.addOIDCClaims(missing.missingOIDCClaims as string[]);
    const grantId = await grant.save();
    await finish(ctx, { consent: { grantId } }, true);
  });

  router.post('/:uid/abort', async (ctx) => {
    const submitted = await submission(ctx);
    if (!submitted) return;
    await finish(ctx, { error: 'access_denied', error_description: 'the user denied the request' }, false);
  });

  return router;
}
