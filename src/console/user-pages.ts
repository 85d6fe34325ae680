import Router from '@koa/router';
import type { Context } from 'koa';
import { parseBody } from '../clients/client-schema.js';
import { definedOnly } from '../objects.js';
import { createUserSchema, patchUserSchema, type userView } from '../users/user-service.js';
import type { ConsoleDeps } from './console-routes.js';
import {
  attempt,
  cursorOption,
  deletionRoutes,
  formOf,
  nextPageLink,
  seeOther,
  text,
  type DeleteConfirmation,
  type FormError,
} from './forms.js';
import { consoleOf, eventsOf, renderConsole, shortTime } from './render.js';

type UserView = ReturnType<typeof userView>;

const userPath = (id: string) => `/admin/users/${encodeURIComponent(id)}`;

/** `/admin/users`: list, create, role, password reset, disable/enable, delete. */
export function userPages(deps: ConsoleDeps): Router {
  const { users } = deps;
  const router = new Router();

  async function listUsers(ctx: Context) {
    const page = await users.list(consoleOf(ctx).principal, { limit: 25, ...cursorOption(ctx) });
    renderConsole(ctx, 'users', {
      users: page.data.map((u) => ({ ...u, created: shortTime(u.created_at) })),
      next: nextPageLink('/admin/users', {}, page.next_cursor),
    });
  }

  function newUserForm(
    ctx: Context,
    values = { username: '', email: '', role: 'member' },
    error: FormError | null = null,
    status = 200,
  ) {
    renderConsole(ctx, 'user-form', { values, error }, status);
  }

  async function showNewUserForm(ctx: Context) {
    newUserForm(ctx);
  }

  async function createUser(ctx: Context) {
    const form = formOf(ctx);
    const values = { username: text(form, 'username'), email: text(form, 'email'), role: text(form, 'role') };
    const outcome = await attempt(() =>
      users.register(
        consoleOf(ctx).principal,
        parseBody(
          createUserSchema,
          definedOnly({ ...values, email: values.email || undefined, password: text(form, 'password') }),
          'invalid_request',
        ),
      ),
    );
    // The password is never sent back into the form.
    if ('error' in outcome) return newUserForm(ctx, values, outcome.error, outcome.status);
    seeOther(ctx, `${userPath(outcome.ok.id)}?done=created`);
  }

  async function userPage(ctx: Context, user: UserView, error: FormError | null = null, status = 200) {
    renderConsole(
      ctx,
      'user',
      {
        user,
        created: shortTime(user.created_at),
        updated: shortTime(user.updated_at),
        events: await eventsOf(deps.audit, consoleOf(ctx).principal.accountId, `user:${user.id}`),
        self: user.id === consoleOf(ctx).user.id,
        notice: error ? null : (ctx.query.done ?? null),
        error,
      },
      status,
    );
  }

  async function showUser(ctx: Context) {
    await userPage(ctx, await users.get(consoleOf(ctx).principal, ctx.params.id!));
  }

  /** A change from the user's page: refused input comes back on that page, next to its field. */
  async function change(ctx: Context, patch: Record<string, unknown>, done: string) {
    const { principal } = consoleOf(ctx);
    const user = await users.get(principal, ctx.params.id!);
    const outcome = await attempt(() =>
      users.update(principal, user.id, parseBody(patchUserSchema, patch, 'invalid_request')),
    );
    if ('error' in outcome) return userPage(ctx, user, outcome.error, outcome.status);
    seeOther(ctx, `${userPath(user.id)}?done=${done}`);
  }

  async function changeRole(ctx: Context) {
    await change(ctx, { role: text(formOf(ctx), 'role') }, 'role');
  }

  async function resetPassword(ctx: Context) {
    const outcome = { password: text(formOf(ctx), 'password') };
    await change(ctx, outcome, 'password');
  }

  async function disableUser(ctx: Context) {
    await change(ctx, { disabled: true }, 'disabled');
  }

  async function enableUser(ctx: Context) {
    await change(ctx, { disabled: false }, 'enabled');
  }

  const deletion = (user: UserView): DeleteConfirmation => ({
    name: user.username,
    title: `Delete ${user.username}`,
    action: `${userPath(user.id)}/delete`,
    back: userPath(user.id),
    label: 'Type the username to confirm',
    button: 'Delete user',
    consequence: 'The user is removed at once and can no longer sign in; their tokens stop working.',
  });

  router.get('/users', listUsers);
  router.get('/users/new', showNewUserForm);
  router.post('/users', createUser);
  router.get('/users/:id', showUser);
  router.post('/users/:id/role', changeRole);
  router.post('/users/:id/password', resetPassword);
  router.post('/users/:id/disable', disableUser);
  router.post('/users/:id/enable', enableUser);
  deletionRoutes(router, '/users', {
    find: (ctx) => users.get(consoleOf(ctx).principal, ctx.params.id!),
    confirmation: deletion,
    remove: (ctx, user) => users.remove(consoleOf(ctx).principal, user.id),
    done: '/admin/users',
  });
  return router;
}
