import Router from '@koa/router';
import type { Context } from 'koa';
import { requireScope } from '../admin/admin-auth.js';
import { jsonBody, listOptions, principalOf } from '../admin/request.js';
import { invalidRequest } from '../errors.js';
import { definedOnly } from '../objects.js';
import {
  addSecretSchema,
  createClientSchema,
  GRANT_TYPES,
  parseBody,
  patchClientSchema,
  rotateSecretSchema,
} from './client-schema.js';
import { clientView, type ClientFilters, type ClientService } from './client-service.js';

/** The filters of `GET /clients`: `q` (name), `grant_type` and `disabled`. */
export function clientFilters(query: Record<string, unknown>): ClientFilters {
  const { q, grant_type: grantType, disabled } = query;
  if (q !== undefined && typeof q !== 'string') throw invalidRequest('q must be given once');
  if (grantType !== undefined && !GRANT_TYPES.includes(grantType as never)) {
    throw invalidRequest(`grant_type must be one of ${GRANT_TYPES.join(', ')}`);
  }
  if (disabled !== undefined && disabled !== 'true' && disabled !== 'false') {
    throw invalidRequest('disabled must be true or false');
  }
  return definedOnly({
    q: q || undefined,
    grantType: grantType as string | undefined,
    disabled: disabled === undefined ? undefined : disabled === 'true',
  });
}

/** `/clients` of the admin API (contract section 5.1). */
export function clientRoutes(clients: ClientService): Router {
  const router = new Router();
  const read = requireScope('admin', 'clients:read');
  const write = requireScope('admin', 'clients:write');

  async function createClient(ctx: Context) {
    const input = parseBody(createClientSchema, jsonBody(ctx));
    const { client, secret, certificate } = await clients.register(principalOf(ctx), input);
    ctx.status = 201;
    ctx.set('location', `/admin/api/clients/${encodeURIComponent(client.client_id)}`);
    ctx.body = {
      client: clientView(client),
      ...(secret === null ? {} : { client_secret: secret }),
      ...(certificate ? { certificate } : {}),
    };
  }

  async function listClients(ctx: Context) {
    ctx.body = await clients.list(principalOf(ctx), {
      ...listOptions(ctx.query),
      ...clientFilters(ctx.query),
    });
  }

  async function getClient(ctx: Context) {
    ctx.body = await clients.get(principalOf(ctx), ctx.params.id!);
  }

  async function updateClient(ctx: Context) {
    const patch = parseBody(patchClientSchema, jsonBody(ctx));
    ctx.body = await clients.update(principalOf(ctx), ctx.params.id!, patch);
  }

  async function deleteClient(ctx: Context) {
    await clients.remove(principalOf(ctx), ctx.params.id!);
    ctx.status = 204;
  }

  async function rotateSecret(ctx: Context) {
    const body = jsonBody(ctx);
    const options = body === undefined ? {} : parseBody(rotateSecretSchema, body, 'invalid_request');
    ctx.body = {
      client_secret: await clients.rotateSecret(principalOf(ctx), ctx.params.id!, {
        previousSecretExpiresIn: options.previous_secret_expires_in,
        revokeTokens: options.revoke_tokens === true,
      }),
    };
  }

  async function listSecrets(ctx: Context) {
    ctx.body = await clients.listSecrets(principalOf(ctx), ctx.params.id!);
  }

  async function addSecret(ctx: Context) {
    const body = jsonBody(ctx);
    const options = body === undefined ? {} : parseBody(addSecretSchema, body, 'invalid_request');
    ctx.body = await clients.addSecret(principalOf(ctx), ctx.params.id!, {
      label: options.label,
      expiresIn: options.expires_in,
    });
    ctx.status = 201;
  }

  async function deleteSecret(ctx: Context) {
    const { revoke_tokens: revoke } = ctx.query;
    if (revoke !== undefined && revoke !== 'true' && revoke !== 'false') {
      throw invalidRequest('revoke_tokens must be true or false');
    }
    await clients.deleteSecret(principalOf(ctx), ctx.params.id!, ctx.params.secret!, {
      revokeTokens: revoke === 'true',
    });
    ctx.status = 204;
  }

  async function endSecretOverlap(ctx: Context) {
    await clients.endSecretOverlap(principalOf(ctx), ctx.params.id!);
    ctx.status = 204;
  }

  async function issueCertificate(ctx: Context) {
    ctx.body = await clients.issueCertificate(principalOf(ctx), ctx.params.id!);
    ctx.status = 201;
  }

  async function revokeCertificate(ctx: Context) {
    await clients.revokeCertificate(principalOf(ctx), ctx.params.id!, ctx.params.serial!);
    ctx.status = 204;
  }

  async function clientUsage(ctx: Context) {
    const { hours = '24' } = ctx.query;
    if (typeof hours !== 'string' || !/^\d+$/.test(hours) || Number(hours) < 1 || Number(hours) > 168) {
      throw invalidRequest('hours must be a whole number between 1 and 168');
    }
    ctx.body = await clients.usage(principalOf(ctx), ctx.params.id!, Number(hours));
  }

  // The client CA (public): what resource servers and clients need to trust Tessera's certificates.
  function clientCa(ctx: Context) {
    ctx.type = 'application/x-pem-file';
    ctx.body = clients.caCertificate();
  }

  router.post('/clients', write, createClient);
  router.get('/clients', read, listClients);
  router.get('/clients/:id', read, getClient);
  router.get('/clients/:id/usage', read, clientUsage);
  router.patch('/clients/:id', write, updateClient);
  router.delete('/clients/:id', write, deleteClient);
  router.post('/clients/:id/secret', write, rotateSecret);
  router.delete('/clients/:id/secret/previous', write, endSecretOverlap);
  router.get('/clients/:id/secrets', read, listSecrets);
  router.post('/clients/:id/secrets', write, addSecret);
  router.delete('/clients/:id/secrets/:secret', write, deleteSecret);
  router.post('/clients/:id/certificate', write, issueCertificate);
  router.delete('/clients/:id/certificate/:serial', write, revokeCertificate);
  router.get('/client-ca', read, clientCa);
  return router;
}
