import Router from '@koa/router';
import type { Context } from 'koa';
import { parseBody } from '../clients/client-schema.js';
import {
  createResourceSchema,
  patchResourceSchema,
  type ResourceView,
} from '../resources/resource-service.js';
import type { ConsoleDeps } from './console-routes.js';
import {
  attempt,
  checked,
  cursorOption,
  deletionRoutes,
  formOf,
  nextPageLink,
  seeOther,
  text,
  wholeNumber,
  type DeleteConfirmation,
  type Form,
  type FormError,
} from './forms.js';
import { consoleOf, eventsOf, renderConsole, shortTime } from './render.js';

const resourcePath = (id: string) => `/admin/apis/${encodeURIComponent(id)}`;

/** The form's fields as typed, so a refused form comes back as it was. */
interface ResourceFormValues {
  name: string;
  identifier: string;
  scope: string[];
  access_token_format: string;
  access_token_ttl: string;
}

const EMPTY_FORM: ResourceFormValues = {
  name: '',
  identifier: '',
  scope: [],
  access_token_format: 'jwt',
  access_token_ttl: '',
};

const valuesOf = (form: Form): ResourceFormValues => ({
  name: text(form, 'name'),
  identifier: text(form, 'identifier'),
  scope: checked(form, 'scope'),
  access_token_format: text(form, 'access_token_format'),
  access_token_ttl: text(form, 'access_token_ttl'),
});

/** The form as the admin API's body: the same schema and rules. An empty lifetime is none. */
const apiBody = (form: Form) => {
  const values = valuesOf(form);
  return {
    name: values.name,
    identifier: values.identifier,
    scope: values.scope.join(' '),
    access_token_format: values.access_token_format,
    access_token_ttl: wholeNumber(form, 'access_token_ttl') ?? null,
  };
};

/** `/admin/apis`: the account's resource servers (contract section 12), like the clients pages. */
export function resourcePages(deps: ConsoleDeps): Router {
  const { resources } = deps;
  const router = new Router();
  // The admin API's own scopes are not for other APIs.
  const apiScopes = deps.scopes.filter((scope) => !deps.adminScopes.has(scope.name));

  function formPage(
    ctx: Context,
    page: { values: ResourceFormValues; error: FormError | null; resource: ResourceView | null },
    status = 200,
  ) {
    renderConsole(ctx, 'resource-form', { ...page, scopes: apiScopes }, status);
  }

  async function listResources(ctx: Context) {
    const page = await resources.list(consoleOf(ctx).principal, { limit: 25, ...cursorOption(ctx) });
    renderConsole(ctx, 'resources', {
      resources: page.data.map((r) => ({ ...r, created: shortTime(r.created_at) })),
      next: nextPageLink('/admin/apis', {}, page.next_cursor),
    });
  }

  async function newResourceForm(ctx: Context) {
    formPage(ctx, { values: EMPTY_FORM, error: null, resource: null });
  }

  async function createResource(ctx: Context) {
    const form = formOf(ctx);
    const outcome = await attempt(() =>
      resources.create(
        consoleOf(ctx).principal,
        parseBody(createResourceSchema, apiBody(form), 'invalid_request'),
      ),
    );
    if ('error' in outcome) {
      return formPage(ctx, { values: valuesOf(form), error: outcome.error, resource: null }, outcome.status);
    }
    seeOther(ctx, `${resourcePath(outcome.ok.id)}?done=created`);
  }

  async function showResource(ctx: Context) {
    const { principal } = consoleOf(ctx);
    const resource = await resources.get(principal, ctx.params.id!);
    renderConsole(ctx, 'resource', {
      resource,
      created: shortTime(resource.created_at),
      updated: shortTime(resource.updated_at),
      events: await eventsOf(deps.audit, principal.accountId, `resource:${resource.id}`),
      notice: ctx.query.done ?? null,
    });
  }

  async function editResourceForm(ctx: Context) {
    const resource = await resources.get(consoleOf(ctx).principal, ctx.params.id!);
    formPage(ctx, {
      values: {
        name: resource.name,
        identifier: resource.identifier,
        scope: resource.scope.split(' ').filter(Boolean),
        access_token_format: resource.access_token_format,
        access_token_ttl: resource.access_token_ttl === null ? '' : String(resource.access_token_ttl),
      },
      error: null,
      resource,
    });
  }

  async function updateResource(ctx: Context) {
    const form = formOf(ctx);
    const { principal } = consoleOf(ctx);
    const resource = await resources.get(principal, ctx.params.id!);
    const outcome = await attempt(() =>
      resources.update(
        principal,
        resource.id,
        parseBody(patchResourceSchema, apiBody(form), 'invalid_request'),
      ),
    );
    if ('error' in outcome) {
      return formPage(ctx, { values: valuesOf(form), error: outcome.error, resource }, outcome.status);
    }
    seeOther(ctx, `${resourcePath(resource.id)}?done=saved`);
  }

  const deletion = (resource: ResourceView): DeleteConfirmation => ({
    name: resource.name,
    title: `Delete ${resource.name}`,
    action: `${resourcePath(resource.id)}/delete`,
    back: resourcePath(resource.id),
    label: 'Type the API name to confirm',
    button: 'Delete API',
    consequence:
      'Clients can no longer ask for tokens for this API; tokens already issued live until they expire.',
  });

  router.get('/apis', listResources);
  router.get('/apis/new', newResourceForm);
  router.post('/apis', createResource);
  router.get('/apis/:id', showResource);
  router.get('/apis/:id/edit', editResourceForm);
  router.post('/apis/:id', updateResource);
  deletionRoutes(router, '/apis', {
    find: (ctx) => resources.get(consoleOf(ctx).principal, ctx.params.id!),
    confirmation: deletion,
    remove: (ctx, resource) => resources.remove(consoleOf(ctx).principal, resource.id),
    done: '/admin/apis',
  });
  return router;
}
