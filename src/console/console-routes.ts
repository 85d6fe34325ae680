import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountService } from '../accounts/account-service.js';
import type { AuditService } from '../audit/audit-service.js';
import { InactiveTokenError, type PrincipalService } from '../auth/principal.js';
import type { ClientService } from '../clients/client-service.js';
import type { Config } from '../config.js';
import { AppError, notFound } from '../errors.js';
import { toAppError } from '../errors.js';
import { logFailure } from '../http/error-handler.js';
import { renderErrorPage } from '../http/pages.js';
import type { UserService } from '../users/user-service.js';
import { accountPages } from './account-pages.js';
import { keyPages } from './key-pages.js';
import { auditPages } from './audit-pages.js';
import { clientPages } from './client-pages.js';
import { ConsoleSignInError, type ConsoleOAuth } from './console-oauth.js';
import { renderConsole, type ConsoleState } from './render.js';
import type { ConsoleSession, ConsoleSessions } from './session.js';
import { SESSION_HOURS } from './session.js';
import { userPages } from './user-pages.js';
import { resourcePages } from './resource-pages.js';
import type { ResourceService } from '../resources/resource-service.js';
import type { KeyService } from '../keys/key-service.js';

export interface ConsoleDeps {
  config: Config;
  logger: Logger;
  /** The provider of the current signing keys. */
  provider: () => Provider;
  sessions: ConsoleSessions;
  oauth: ConsoleOAuth;
  principals: PrincipalService;
  clients: ClientService;
  users: UserService;
  accounts: AccountService;
  audit: AuditService;
  /** The scopes a client may be allowed, with what they are for. */
  scopes: readonly { name: string; description: string }[];
  /** The admin API's own scopes (not offered to resource servers). */
  adminScopes: ReadonlySet<string>;
  resources: ResourceService;
  keys: KeyService;
}

export const SESSION_COOKIE = 'tessera_console';

/**
 * The admin console (contract section 7): server-rendered pages under `/admin` over the same
 * services, and the same scope rules, as the admin API. The browser holds only a session
 * cookie; the console's tokens stay in the session, in the token store.
 */
export function consoleRoutes(deps: ConsoleDeps): Router {
  const { config, sessions, oauth, logger } = deps;
  const secureCookie = new URL(config.issuer).protocol === 'https:';
  const router = new Router({ prefix: '/admin' });

  const setCookie = (ctx: Context, value: string | null) => {
    // Marked Secure whenever the issuer is https, even when a proxy terminated TLS before us.
    if (secureCookie) ctx.cookies.secure = true;
    ctx.cookies.set(SESSION_COOKIE, value, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/admin',
      secure: secureCookie,
      signed: false,
      overwrite: true,
      maxAge: value ? SESSION_HOURS * 3600_000 : undefined,
    });
  };

  /** Errors as HTML pages: the mapping is the API's (one place), only the rendering differs. */
  async function renderErrors(ctx: Context, next: Next) {
    try {
      await next();
    } catch (caught) {
      const error = toAppError(caught);
      logFailure(logger, ctx, caught, error);
      for (const [name, value] of Object.entries(error.headers ?? {})) {
        if (name !== 'www-authenticate') ctx.set(name, value);
      }
      const description =
        error.code === 'insufficient_scope'
          ? 'Your account may not use this page.'
          : error.toBody().error_description;
      renderErrorPage(ctx, error.status, error.code, description);
    }
  }

  async function loadSession(ctx: Context, next: Next) {
    ctx.state.consoleSession = await sessions.find(ctx.cookies.get(SESSION_COOKIE));
    await next();
  }

  /** Every POST needs this session's form token; without one it is 403 and nothing changes. */
  async function checkCsrf(ctx: Context, next: Next) {
    if (ctx.method === 'POST') {
      const session = ctx.state.consoleSession as ConsoleSession | null;
      const form = (ctx.request.body ?? {}) as Record<string, unknown>;
      if (!session || !sessions.csrfMatches(session, form.csrf)) {
        throw new AppError(
          403,
          'invalid_request',
          'The form has expired or did not come from this console. Go back, reload and try again.',
        );
      }
    }
    await next();
  }

  const issuerHost = new URL(config.issuer);
  const loopback = new Set(['localhost', '127.0.0.1', '[::1]']);

  /** Sends the browser to sign in, and back to `returnTo` afterwards. */
  async function signIn(ctx: Context, returnTo: string) {
    // Opened as 127.0.0.1 while the issuer says localhost (or the reverse): the session cookie
    // must be set on the issuer's host, where the sign-in comes back to.
    if (ctx.host !== issuerHost.host && loopback.has(ctx.hostname) && loopback.has(issuerHost.hostname)) {
      ctx.status = 303;
      return ctx.redirect(`${config.issuer}${ctx.originalUrl}`);
    }
    const session = (ctx.state.consoleSession as ConsoleSession | null) ?? sessions.create();
    const account = typeof ctx.query.account === 'string' && ctx.query.account ? ctx.query.account : null;
    const { pending, url } = oauth.start(returnTo, account);
    await sessions.addPending(session, pending);
    setCookie(ctx, session.id);
    ctx.status = 303;
    ctx.redirect(url);
  }

  /** The session's tokens, renewed when they are about to expire; null when the user must sign in again. */
  async function currentPrincipal(session: ConsoleSession) {
    let tokens = session.tokens!;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (attempt > 0 || oauth.expiring(tokens)) {
        try {
          tokens = await oauth.refresh(tokens);
        } catch (error) {
          if (error instanceof ConsoleSignInError) return null;
          throw error;
        }
        session.tokens = tokens;
        await sessions.save(session);
      }
      try {
        return await deps.principals.fromToken(tokens.accessToken, undefined);
      } catch (error) {
        if (!(error instanceof InactiveTokenError)) throw error;
      }
    }
    return null;
  }

  /** Signed in as an administrator, or sent to sign in (GET) or refused (anything else). */
  async function requireAdmin(ctx: Context, next: Next) {
    const session = ctx.state.consoleSession as ConsoleSession | null;
    const principal = session?.tokens ? await currentPrincipal(session) : null;
    if (!session || !principal?.userId) {
      if (session?.tokens) {
        session.tokens = null;
        await sessions.save(session);
      }
      if (ctx.method === 'GET') return signIn(ctx, ctx.originalUrl);
      throw new AppError(403, 'invalid_request', 'Your console session has ended. Sign in again.');
    }
    const user = await deps.users.get(principal, principal.userId);
    const account = await deps.accounts.get(principal.accountId);
    const state: ConsoleState = {
      session,
      principal,
      user,
      account,
      csrf: session.csrf,
      accountsAdmin: principal.scopes.has('accounts:admin'),
      path: ctx.path,
    };
    ctx.state.console = state;
    if (user.role !== 'admin') {
      return renderConsole(ctx, 'forbidden', {}, 403);
    }
    await next();
  }

  async function callback(ctx: Context) {
    const session = ctx.state.consoleSession as ConsoleSession | null;
    const { state, code, error } = ctx.query;
    const pending = session?.pending.find((p) => p.state === state);
    if (!session || !pending) {
      throw new AppError(
        400,
        'invalid_request',
        'This sign-in was not started in this browser, or it has expired. Open the console again.',
      );
    }
    if (typeof error === 'string') {
      throw new AppError(403, 'access_denied', 'Sign-in was cancelled. Open the console again to sign in.');
    }
    if (typeof code !== 'string') throw new AppError(400, 'invalid_request', 'The sign-in returned no code.');
    let tokens;
    try {
      tokens = await oauth.exchange(pending, code);
    } catch (caught) {
      if (!(caught instanceof ConsoleSignInError)) throw caught;
      logger.warn({ req_id: ctx.state.reqId, reason: caught.message }, 'console sign-in failed');
      throw new AppError(
        400,
        'invalid_request',
        'The sign-in could not be completed. Open the console again.',
      );
    }
    const fresh = await sessions.signedIn(session, tokens);
    setCookie(ctx, fresh.id);
    ctx.status = 303;
    ctx.redirect(pending.returnTo.startsWith('/admin') ? pending.returnTo : '/admin/clients');
  }

  /** Ends the console session and the sign-in session, and revokes the console's tokens. */
  async function signOut(ctx: Context) {
    const session = ctx.state.consoleSession as ConsoleSession;
    if (session.tokens) await oauth.revoke(session.tokens);
    await sessions.destroy(session);
    // The sign-in session, as oidc-provider finds it for this browser.
    const signInSession = await deps.provider().Session.get(ctx);
    if (signInSession.accountId) await signInSession.destroy();
    setCookie(ctx, null);
    renderConsole(ctx, 'signed-out', {});
  }

  function home(ctx: Context) {
    ctx.status = 303;
    ctx.redirect('/admin/clients');
  }

  function unknownPage(): never {
    throw notFound('There is no such page in the console.');
  }

  router.use(renderErrors, bodyParser({ enableTypes: ['form'], formLimit: '64kb' }), loadSession, checkCsrf);
  router.get('/callback', callback);
  router.post('/logout', signOut);

  const signedIn = new Router();
  signedIn.use(requireAdmin);
  signedIn.get('/', home);
  for (const pages of [
    clientPages(deps),
    resourcePages(deps),
    userPages(deps),
    auditPages(deps),
    accountPages(deps),
    keyPages(deps),
  ]) {
    signedIn.use(pages.routes());
  }
  router.use(signedIn.routes());
  router.all('/{*rest}', unknownPage);
  return router;
}
