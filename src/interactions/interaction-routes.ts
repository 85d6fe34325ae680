import { createHmac, timingSafeEqual } from 'node:crypto';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { renderErrorPage, renderPage } from '../http/pages.js';
import type { Consents } from './consents.js';
import type { LoginService } from './login-service.js';

export interface InteractionDeps {
  /** The provider of the current signing keys. */
  provider: () => Provider;
  /** Client and user lookups and password checks, with their throttling. */
  login: LoginService;
  /** Key for the forms' CSRF tokens (one of the shared cookie keys, so every node agrees). */
  csrfKey: string;
  /** Remembers what each user granted each client, across sign-ins. */
  consents: Pick<Consents, 'remember'>;
  /** What each scope is for, as the consent page says it. */
  describeScope: (scope: string) => string;
}

/**
 * Tessera's login and consent pages (server-rendered forms that work without JavaScript), at the
 * path oidc-provider sends the browser to: `/interaction/:uid`.
 */
export function interactionRoutes(deps: InteractionDeps): Router {
  const { login } = deps;
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

  /** The interaction this browser is in, matching the URL; null after an error page was rendered. */
  const details = async (ctx: Context) => {
    try {
      const found = await deps.provider().interactionDetails(ctx.req, ctx.res);
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
    const client = await login.client(clientId);
    return { client, name: client?.client_name ?? 'the application' };
  };

  const finish = async (
    ctx: Context,
    result: Parameters<Provider['interactionResult']>[2],
    merge: boolean,
  ) => {
    const target = await deps.provider().interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: merge,
    });
    ctx.status = 303;
    ctx.redirect(target);
  };

  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }));

  router.get('/:uid', async function showPrompt(ctx) {
    const interaction = await details(ctx);
    if (!interaction) return;
    const { name } = await clientName(interaction.params.client_id);
    const csrf = csrfFor(interaction.uid);
    if (interaction.prompt.name === 'login') {
      renderPage(ctx, 'login', { uid: interaction.uid, clientName: name, csrf, username: '', error: null });
      return;
    }
    const user = interaction.session?.accountId ? await login.user(interaction.session.accountId) : null;
    const { missingOIDCScope = [], missingResourceScopes = {} } = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const missing = [...new Set([...missingOIDCScope, ...Object.values(missingResourceScopes).flat()])];
    renderPage(ctx, 'consent', {
      uid: interaction.uid,
      clientName: name,
      csrf,
      username: user?.username ?? '',
      scopes: missing.map((scope) => ({ name: scope, description: deps.describeScope(scope) })),
    });
  });

  router.post('/:uid/login', async function submitLogin(ctx) {
    const submitted = await submission(ctx);
    if (!submitted) return;
    const { interaction, form } = submitted;
    const { client, name } = await clientName(interaction.params.client_id);
    const username = typeof form.username === 'string' ? form.username.slice(0, 64) : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const loginPage = (status: number, error: string) =>
      renderPage(
        ctx,
        'login',
        { uid: interaction.uid, clientName: name, csrf: csrfFor(interaction.uid), username, error },
        status,
      );

    const result = await login.signIn({
      accountId: login.accountFor(client, interaction.params),
      username,
      password,
      address: ctx.ip,
    });
    switch (result.outcome) {
      case 'throttled':
        ctx.set('retry-after', String(result.retryAfterSeconds));
        return loginPage(429, 'Too many failed sign-in attempts. Wait a few minutes and try again.');
      case 'busy':
        ctx.set('retry-after', '1');
        return loginPage(503, 'The server is busy. Try again in a moment.');
      case 'refused':
        return loginPage(401, 'Invalid username or password.');
      case 'signed_in':
        return finish(ctx, { login: { accountId: result.userId } }, false);
    }
  });

  router.post('/:uid/confirm', async function confirmConsent(ctx) {
    const submitted = await submission(ctx);
    if (!submitted) return;
    const { interaction } = submitted;
    const accountId = interaction.session?.accountId;
    const clientId = String(interaction.params.client_id);
    if (interaction.prompt.name !== 'consent' || !accountId) {
      return renderErrorPage(ctx, 400, 'invalid_request', 'There is nothing to confirm.');
    }
    const { Grant } = deps.provider();
    const grant = interaction.grantId
      ? ((await Grant.find(interaction.grantId)) ?? new Grant({ accountId, clientId }))
      : new Grant({ accountId, clientId });
    const missing = interaction.prompt.details;
    if (Array.isArray(missing.missingOIDCScope)) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (Array.isArray(missing.missingOIDCClaims)) grant.addOIDCClaims(missing.missingOIDCClaims as string[]);
    // RFC 8707: the scopes asked for each resource server the request names.
    const resourceScopes = (missing.missingResourceScopes ?? {}) as Record<string, string[]>;
    for (const [identifier, scopes] of Object.entries(resourceScopes)) {
      grant.addResourceScope(identifier, scopes.join(' '));
    }
    const grantId = await grant.save();
    await deps.consents.remember(accountId, clientId, [
      ...grant.getOIDCScope().split(' '),
      ...Object.values(resourceScopes).flat(),
    ]);
    await finish(ctx, { consent: { grantId } }, true);
  });

  router.post('/:uid/abort', async function abortInteraction(ctx) {
    const submitted = await submission(ctx);
    if (!submitted) return;
    await finish(ctx, { error: 'access_denied', error_description: 'the user denied the request' }, false);
  });

  return router;
}
