import Router from '@koa/router';
import type { Context } from 'koa';
import { clientFilters } from '../clients/client-routes.js';
import {
  addSecretSchema,
  AUTH_METHODS,
  createClientSchema,
  GRANT_TYPES,
  parseBody,
  patchClientSchema,
  rotateSecretSchema,
} from '../clients/client-schema.js';
import { SECRET_AUTH_METHODS } from '../clients/client-model.js';
import type { ClientView } from '../clients/client-service.js';
import { definedOnly } from '../objects.js';
import type { ConsoleDeps } from './console-routes.js';
import {
  attempt,
  checked,
  cursorOption,
  deletionRoutes,
  formOf,
  isChecked,
  lines,
  nextPageLink,
  seeOther,
  text,
  wholeNumber,
  type DeleteConfirmation,
  type Form,
  type FormError,
} from './forms.js';
import { oneTimePages, revealOnce } from './one-time-pages.js';
import { consoleOf, eventsOf, renderConsole, shortTime } from './render.js';

/** A refused "Rotate secret" or "Add secret" form, shown again as it was typed. */
interface RefusedSecretForm {
  form: 'rotate' | 'add';
  error: FormError;
  values: Record<string, string>;
  revokeTokens: boolean;
  status: number;
}

/** Rows per page of the clients list (contract section 7). */
export const CLIENTS_PER_PAGE = 25;
/** A certificate this close to its expiry is flagged on the client's page. */
const EXPIRY_WARNING_DAYS = 30;

export const GRANT_LABELS: Record<(typeof GRANT_TYPES)[number], string> = {
  authorization_code: 'Authorization code',
  refresh_token: 'Refresh token',
  client_credentials: 'Client credentials',
};

const METHOD_LABELS: Record<(typeof AUTH_METHODS)[number], string> = {
  client_secret_basic: 'Client secret (HTTP Basic)',
  client_secret_post: 'Client secret (form post)',
  private_key_jwt: 'Private key JWT',
  tls_client_auth: 'Mutual TLS (Tessera-issued certificate)',
  self_signed_tls_client_auth: 'Mutual TLS (self-signed certificate)',
  none: 'None (public client, PKCE)',
};

/** The form's fields as typed, so a refused form comes back as it was. */
interface ClientFormValues {
  client_name: string;
  description: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  backchannel_logout_uri: string;
  grant_types: string[];
  token_endpoint_auth_method: string;
  scope: string[];
  access_token_ttl: string;
  tls_client_certificate_bound_access_tokens: boolean;
  service_user_id: string;
  first_party: boolean;
  /** `web`, `native`, or empty: decided from the redirect URIs. */
  application_type: string;
  require_consent: boolean;
}

const PRESETS: Record<string, { label: string; values: Partial<ClientFormValues> }> = {
  machine: {
    label: 'Machine to machine',
    values: { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' },
  },
  web: {
    label: 'Web application',
    values: {
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: ['openid', 'profile', 'email'],
    },
  },
  browser: {
    label: 'Single-page or native app',
    values: {
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      scope: ['openid', 'profile'],
    },
  },
  mtls: {
    label: 'Mutual TLS machine',
    values: {
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
    },
  },
  custom: { label: 'Custom', values: {} },
};

const EMPTY_FORM: ClientFormValues = {
  client_name: '',
  description: '',
  redirect_uris: '',
  post_logout_redirect_uris: '',
  backchannel_logout_uri: '',
  grant_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: [],
  access_token_ttl: '',
  tls_client_certificate_bound_access_tokens: false,
  service_user_id: '',
  first_party: false,
  application_type: '',
  require_consent: true,
};

function valuesOf(form: Form): ClientFormValues {
  return {
    client_name: text(form, 'client_name'),
    description: text(form, 'description'),
    redirect_uris: text(form, 'redirect_uris'),
    post_logout_redirect_uris: text(form, 'post_logout_redirect_uris'),
    backchannel_logout_uri: text(form, 'backchannel_logout_uri'),
    grant_types: checked(form, 'grant_types'),
    token_endpoint_auth_method: text(form, 'token_endpoint_auth_method'),
    scope: checked(form, 'scope'),
    access_token_ttl: text(form, 'access_token_ttl'),
    tls_client_certificate_bound_access_tokens: isChecked(form, 'tls_client_certificate_bound_access_tokens'),
    service_user_id: text(form, 'service_user_id'),
    first_party: isChecked(form, 'first_party'),
    application_type: text(form, 'application_type'),
    require_consent: isChecked(form, 'require_consent'),
  };
}

const valuesFromClient = (client: ClientView): ClientFormValues => ({
  client_name: client.client_name,
  description: client.description,
  redirect_uris: client.redirect_uris.join('\n'),
  post_logout_redirect_uris: client.post_logout_redirect_uris.join('\n'),
  backchannel_logout_uri: client.backchannel_logout_uri ?? '',
  grant_types: client.grant_types,
  token_endpoint_auth_method: client.token_endpoint_auth_method,
  scope: client.scope.split(' ').filter(Boolean),
  access_token_ttl: String(client.access_token_ttl),
  tls_client_certificate_bound_access_tokens: client.tls_client_certificate_bound_access_tokens,
  service_user_id: client.service_user_id ?? '',
  first_party: client.first_party,
  application_type: client.application_type,
  require_consent: client.require_consent,
});

/** The form as the admin API's body: the console goes through the very same validation. */
function apiBody(form: Form) {
  const values = valuesOf(form);
  return {
    client_name: values.client_name,
    description: values.description,
    redirect_uris: lines(form, 'redirect_uris'),
    post_logout_redirect_uris: lines(form, 'post_logout_redirect_uris'),
    backchannel_logout_uri: values.backchannel_logout_uri.trim() || null,
    grant_types: values.grant_types,
    scope: values.scope.join(' '),
    access_token_ttl: wholeNumber(form, 'access_token_ttl'),
    tls_client_certificate_bound_access_tokens: values.tls_client_certificate_bound_access_tokens,
    service_user_id: values.service_user_id || null,
    first_party: values.first_party,
    // Left out when not chosen: the API decides it from the redirect URIs.
    application_type: values.application_type || undefined,
    require_consent: values.require_consent,
  };
}

/** Days from now to `iso`, rounded down. */
const daysUntil = (iso: string) => Math.floor((Date.parse(iso) - Date.now()) / 86_400_000);

/** `/admin/clients`: list, create (with presets), details, edit, secrets, certificates, disable, delete. */
export function clientPages(deps: ConsoleDeps): Router {
  const { clients, sessions } = deps;
  const router = new Router();

  /** Users that may be a client's service user. */
  const serviceUsers = async (ctx: Context) =>
    (await deps.users.list(consoleOf(ctx).principal, { limit: 100 })).data.map((u) => ({
      id: u.id,
      username: u.username,
    }));

  async function formPage(
    ctx: Context,
    page: {
      values: ClientFormValues;
      error: FormError | null;
      client: ClientView | null;
      preset: string | null;
    },
    status = 200,
  ) {
    renderConsole(
      ctx,
      'client-form',
      {
        ...page,
        presets: Object.entries(PRESETS).map(([key, p]) => ({ key, label: p.label })),
        grantTypes: GRANT_TYPES.map((value) => ({ value, label: GRANT_LABELS[value] })),
        methods: AUTH_METHODS.map((value) => ({ value, label: METHOD_LABELS[value] })),
        scopes: deps.scopes.filter(
          (s) => s.name !== 'accounts:admin' || consoleOf(ctx).principal.accountId === 'default',
        ),
        users: await serviceUsers(ctx),
      },
      status,
    );
  }

  async function listClients(ctx: Context) {
    const { principal } = consoleOf(ctx);
    const filters = clientFilters({
      q: ctx.query.q || undefined,
      grant_type: ctx.query.grant_type || undefined,
      disabled:
        ctx.query.status === 'disabled' ? 'true' : ctx.query.status === 'enabled' ? 'false' : undefined,
    });
    const cursor = cursorOption(ctx);
    const page = await clients.list(principal, { limit: CLIENTS_PER_PAGE, ...cursor, ...filters });
    const next = nextPageLink(
      '/admin/clients',
      { q: filters.q, grant_type: filters.grantType, status: ctx.query.status as string | undefined },
      page.next_cursor,
    );
    renderConsole(ctx, 'clients', {
      clients: page.data.map((c) => ({
        ...c,
        grants: c.grant_types.map((g) => GRANT_LABELS[g as keyof typeof GRANT_LABELS] ?? g).join(', '),
        created: shortTime(c.created_at),
        lastUsed: shortTime(c.last_used_at),
      })),
      filters: {
        q: filters.q ?? '',
        grant_type: filters.grantType ?? '',
        status: (ctx.query.status as string) ?? '',
      },
      grantTypes: GRANT_TYPES.map((value) => ({ value, label: GRANT_LABELS[value] })),
      next,
      first: !cursor.cursor,
    });
  }

  async function newClientForm(ctx: Context) {
    const preset =
      typeof ctx.query.preset === 'string' && PRESETS[ctx.query.preset] ? ctx.query.preset : 'machine';
    await formPage(ctx, {
      values: { ...EMPTY_FORM, ...PRESETS[preset]!.values },
      error: null,
      client: null,
      preset,
    });
  }

  async function createClient(ctx: Context) {
    const form = formOf(ctx);
    const { principal } = consoleOf(ctx);
    const method = text(form, 'token_endpoint_auth_method');
    const outcome = await attempt(async () => {
      const body = definedOnly({
        ...apiBody(form),
        token_endpoint_auth_method: method,
        // A tls_client_auth client cannot authenticate without a certificate: it gets one now.
        issue_certificate: method === 'tls_client_auth' ? true : undefined,
      });
      return clients.register(principal, parseBody(createClientSchema, body));
    });
    if ('error' in outcome) {
      const preset = text(form, 'preset');
      return formPage(
        ctx,
        {
          values: valuesOf(form),
          error: outcome.error,
          client: null,
          preset: PRESETS[preset] ? preset : null,
        },
        outcome.status,
      );
    }
    const { client, secret, certificate } = outcome.ok;
    await revealOnce(ctx, sessions, {
      heading: 'Client created',
      clientId: client.client_id,
      clientSecret: secret,
      certificatePem: certificate?.certificate_pem ?? null,
      privateKeyPem: certificate?.private_key_pem ?? null,
      back: clientPath(client.client_id),
    });
  }

  /** The client's page; `refused` is a refused secret form ("Rotate secret", "Add secret"), shown where it was typed. */
  async function clientPage(ctx: Context, refused?: RefusedSecretForm) {
    const { principal } = consoleOf(ctx);
    const client = await clients.get(principal, ctx.params.id!);
    const usesSecret = SECRET_AUTH_METHODS.has(client.token_endpoint_auth_method);
    const secrets = usesSecret ? (await clients.listSecrets(principal, client.client_id)).data : [];
    const users = await serviceUsers(ctx);
    const usage = await clients.usage(principal, client.client_id, 24);
    renderConsole(
      ctx,
      'client',
      {
        client,
        usage: usageChart(usage.hours),
        grants: client.grant_types.map((g) => GRANT_LABELS[g as keyof typeof GRANT_LABELS] ?? g).join(', '),
        method:
          METHOD_LABELS[client.token_endpoint_auth_method as keyof typeof METHOD_LABELS] ??
          client.token_endpoint_auth_method,
        serviceUser: users.find((u) => u.id === client.service_user_id)?.username ?? client.service_user_id,
        usesSecret,
        secrets: secrets.map((secret) => ({
          ...secret,
          name: secret.label ?? (secret.hint ? `${secret.hint}…` : 'without a label'),
          created: shortTime(secret.created_at),
          expires: secret.expires_at ? shortTime(secret.expires_at) : 'Never',
          lastUsed: shortTime(secret.last_used_at),
        })),
        usesCertificates:
          client.token_endpoint_auth_method === 'tls_client_auth' ||
          client.tls_client_certificate_bound_access_tokens,
        certificates: client.certificates.map((c) => {
          const days = daysUntil(c.not_after);
          return {
            ...c,
            expires: shortTime(c.not_after),
            expired: days < 0,
            warning: !c.revoked && days >= 0 && days < EXPIRY_WARNING_DAYS ? `Expires in ${days} days` : null,
          };
        }),
        events: await eventsOf(deps.audit, principal.accountId, `client:${client.client_id}`),
        created: shortTime(client.created_at),
        updated: shortTime(client.updated_at),
        lastUsed: shortTime(client.last_used_at),
        previousSecretUntil:
          client.previous_secret_expires_at && shortTime(client.previous_secret_expires_at),
        rotation: refused?.form === 'rotate' ? refused : null,
        addition: refused?.form === 'add' ? refused : null,
        notice: ctx.query.done ?? null,
      },
      refused?.status ?? 200,
    );
  }

  async function showClient(ctx: Context) {
    await clientPage(ctx);
  }

  async function editClientForm(ctx: Context) {
    const client = await clients.get(consoleOf(ctx).principal, ctx.params.id!);
    await formPage(ctx, { values: valuesFromClient(client), error: null, client, preset: null });
  }

  async function updateClient(ctx: Context) {
    const form = formOf(ctx);
    const { principal } = consoleOf(ctx);
    const client = await clients.get(principal, ctx.params.id!);
    const outcome = await attempt(() =>
      clients.update(principal, client.client_id, parseBody(patchClientSchema, definedOnly(apiBody(form)))),
    );
    if ('error' in outcome) {
      return formPage(
        ctx,
        {
          values: { ...valuesOf(form), token_endpoint_auth_method: client.token_endpoint_auth_method },
          error: outcome.error,
          client,
          preset: null,
        },
        outcome.status,
      );
    }
    seeOther(ctx, `${clientPath(client.client_id)}?done=saved`);
  }

  async function setDisabled(ctx: Context, disabled: boolean) {
    const { principal } = consoleOf(ctx);
    await clients.update(principal, ctx.params.id!, { disabled });
    seeOther(ctx, `${clientPath(ctx.params.id!)}?done=${disabled ? 'disabled' : 'enabled'}`);
  }

  async function disableClient(ctx: Context) {
    await setDisabled(ctx, true);
  }

  async function enableClient(ctx: Context) {
    await setDisabled(ctx, false);
  }

  async function rotateSecret(ctx: Context) {
    const { principal } = consoleOf(ctx);
    const form = formOf(ctx);
    const revokeTokens = isChecked(form, 'revoke_tokens');
    const outcome = await attempt(async () => {
      const options = parseBody(
        rotateSecretSchema,
        definedOnly({ previous_secret_expires_in: wholeNumber(form, 'previous_secret_expires_in') }),
        'invalid_request',
      );
      return clients.rotateSecret(principal, ctx.params.id!, {
        previousSecretExpiresIn: options.previous_secret_expires_in,
        revokeTokens,
      });
    });
    if ('error' in outcome) {
      return clientPage(ctx, {
        form: 'rotate',
        error: outcome.error,
        values: { previous_secret_expires_in: text(form, 'previous_secret_expires_in') },
        revokeTokens,
        status: outcome.status,
      });
    }
    await revealSecret(ctx, 'Secret rotated', outcome.ok);
  }

  async function addSecret(ctx: Context) {
    const { principal } = consoleOf(ctx);
    const form = formOf(ctx);
    const outcome = await attempt(async () => {
      const options = parseBody(
        addSecretSchema,
        definedOnly({ label: text(form, 'label') || undefined, expires_in: wholeNumber(form, 'expires_in') }),
        'invalid_request',
      );
      return clients.addSecret(principal, ctx.params.id!, {
        label: options.label,
        expiresIn: options.expires_in,
      });
    });
    if ('error' in outcome) {
      return clientPage(ctx, {
        form: 'add',
        error: outcome.error,
        values: { label: text(form, 'label'), expires_in: text(form, 'expires_in') },
        revokeTokens: false,
        status: outcome.status,
      });
    }
    await revealSecret(ctx, 'Secret added', outcome.ok.client_secret);
  }

  /** The page that shows a new secret once, then leads back to the client. */
  async function revealSecret(ctx: Context, heading: 'Secret rotated' | 'Secret added', secret: string) {
    await revealOnce(ctx, sessions, {
      heading,
      clientId: ctx.params.id!,
      clientSecret: secret,
      certificatePem: null,
      privateKeyPem: null,
      back: clientPath(ctx.params.id!),
    });
  }

  async function revokeSecret(ctx: Context) {
    await clients.deleteSecret(consoleOf(ctx).principal, ctx.params.id!, ctx.params.secret!, {
      revokeTokens: isChecked(formOf(ctx), 'revoke_tokens'),
    });
    seeOther(ctx, `${clientPath(ctx.params.id!)}?done=secret-revoked`);
  }

  async function endSecretOverlap(ctx: Context) {
    await clients.endSecretOverlap(consoleOf(ctx).principal, ctx.params.id!);
    seeOther(ctx, `${clientPath(ctx.params.id!)}?done=overlap-ended`);
  }

  async function issueCertificate(ctx: Context) {
    const { principal } = consoleOf(ctx);
    const issued = await clients.issueCertificate(principal, ctx.params.id!);
    await revealOnce(ctx, sessions, {
      heading: 'Certificate issued',
      clientId: ctx.params.id!,
      clientSecret: null,
      certificatePem: issued.certificate_pem,
      privateKeyPem: issued.private_key_pem,
      back: clientPath(ctx.params.id!),
    });
  }

  async function revokeCertificate(ctx: Context) {
    await clients.revokeCertificate(consoleOf(ctx).principal, ctx.params.id!, ctx.params.serial!);
    seeOther(ctx, `${clientPath(ctx.params.id!)}?done=revoked`);
  }

  router.get('/clients', listClients);
  router.get('/clients/new', newClientForm);
  router.post('/clients', createClient);
  router.get('/clients/:id', showClient);
  router.get('/clients/:id/edit', editClientForm);
  router.post('/clients/:id', updateClient);
  router.post('/clients/:id/disable', disableClient);
  router.post('/clients/:id/enable', enableClient);
  router.post('/clients/:id/secret', rotateSecret);
  router.post('/clients/:id/secret/previous/end', endSecretOverlap);
  router.post('/clients/:id/secrets', addSecret);
  router.post('/clients/:id/secrets/:secret/revoke', revokeSecret);
  router.post('/clients/:id/certificate', issueCertificate);
  router.post('/clients/:id/certificates/:serial/revoke', revokeCertificate);
  deletionRoutes(router, '/clients', {
    find: (ctx) => clients.get(consoleOf(ctx).principal, ctx.params.id!),
    confirmation: deletion,
    remove: (ctx, client) => clients.remove(consoleOf(ctx).principal, client.client_id),
    done: '/admin/clients',
  });
  router.use(oneTimePages(deps).routes());
  return router;
}

/** The last day's usage as bars of an SVG chart (600 × 120), drawn on the server. */
function usageChart(hours: { start: string; tokens_issued: number; auth_failures: number }[]) {
  const peak = Math.max(1, ...hours.map((h) => h.tokens_issued + h.auth_failures));
  const width = 600 / hours.length;
  const height = (n: number) => Math.round((n / peak) * 100);
  return {
    peak,
    tokens: hours.reduce((sum, h) => sum + h.tokens_issued, 0),
    failures: hours.reduce((sum, h) => sum + h.auth_failures, 0),
    bars: hours.map((h, i) => ({
      x: Math.round(i * width) + 1,
      width: Math.max(1, Math.round(width) - 2),
      tokens: height(h.tokens_issued),
      failures: height(h.auth_failures),
      label: `${h.start.slice(11, 16)} UTC: ${h.tokens_issued} tokens, ${h.auth_failures} failures`,
    })),
    first: hours[0]?.start.slice(11, 16) ?? '',
  };
}

export const clientPath = (clientId: string) => `/admin/clients/${encodeURIComponent(clientId)}`;

/** The typed-name confirmation of a client's delete. */
const deletion = (client: ClientView): DeleteConfirmation => ({
  name: client.client_name,
  title: `Delete ${client.client_name}`,
  action: `${clientPath(client.client_id)}/delete`,
  back: clientPath(client.client_id),
  label: 'Type the client name to confirm',
  button: 'Delete client',
  consequence: 'The client is removed at once, and every token, code and grant it holds is revoked.',
});
