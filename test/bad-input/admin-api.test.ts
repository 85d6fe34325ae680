import { after, before, describe, it } from 'node:test';
import { api, tokenFor } from '../support/admin.js';
import { assertTableRefused, type BadRequest, invalidUtf8, long } from '../support/bad-input.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

/** Values of the wrong type for a field whose right type is `kind`. */
function wrongValues(
  kind: 'string' | 'number' | 'boolean' | 'array' | 'nullable-string' | 'object',
): unknown[] {
  const all: unknown[] = ['text', 42, -1, 1e308, true, [], ['x'], {}, { $gt: '' }, null];
  return all.filter((value) => {
    if (kind === 'string') return typeof value !== 'string';
    if (kind === 'nullable-string') return typeof value !== 'string' && value !== null;
    if (kind === 'number') return typeof value !== 'number';
    if (kind === 'boolean') return typeof value !== 'boolean';
    if (kind === 'array') return !Array.isArray(value);
    return typeof value !== 'object' || Array.isArray(value);
  });
}

/** Every writable field of the client view, with the type it takes. */
const CLIENT_FIELDS: [field: string, kind: Parameters<typeof wrongValues>[0]][] = [
  ['client_name', 'string'],
  ['description', 'string'],
  ['grant_types', 'array'],
  ['redirect_uris', 'array'],
  ['scope', 'string'],
  ['token_endpoint_auth_method', 'string'],
  ['access_token_ttl', 'number'],
  ['service_user_id', 'nullable-string'],
  ['first_party', 'boolean'],
  ['require_consent', 'boolean'],
  ['application_type', 'string'],
  ['tls_client_certificate_bound_access_tokens', 'boolean'],
];

/** Every field of a resource server, with the type it takes (the lifetime also takes null). */
const RESOURCE_FIELDS: [field: string, kind: Parameters<typeof wrongValues>[0]][] = [
  ['identifier', 'string'],
  ['name', 'string'],
  ['scope', 'string'],
  ['access_token_format', 'string'],
  ['access_token_ttl', 'number'],
];
const RESOURCE = {
  identifier: 'https://bad-input.example.com',
  name: 'Bad input',
  scope: 'api:read',
  access_token_format: 'jwt',
};

describe('bad input: the admin API', () => {
  let tessera: RunningTessera;
  let root: string;
  let clientId: string;
  before(async () => {
    tessera = await startTessera();
    root = await tokenFor(tessera.url);
    const created = await api(tessera, root, 'POST', '/clients', { client_name: 'target' });
    clientId = (created.body.client as { client_id: string }).client_id;
  });
  after(async () => tessera.close());

  it('refuses every malformed call with a 4xx in the contract shape, and changes nothing', async () => {
    const json = (name: string, method: string, path: string, body: unknown): BadRequest => ({
      name,
      method,
      path: `/admin/api${path}`,
      headers: { authorization: `Bearer ${root}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const table: BadRequest[] = [];
    for (const [field, kind] of CLIENT_FIELDS) {
      for (const value of wrongValues(kind)) {
        table.push(
          json(`create with ${field}=${JSON.stringify(value)}`, 'POST', '/clients', {
            client_name: 'x',
            [field]: value,
          }),
        );
        if (field !== 'client_name' || value !== null) {
          table.push(
            json(`change ${field} to ${JSON.stringify(value)}`, 'PATCH', `/clients/${clientId}`, {
              [field]: value,
            }),
          );
        }
      }
    }
    for (const [field, kind] of RESOURCE_FIELDS) {
      for (const value of wrongValues(kind)) {
        if (field === 'access_token_ttl' && value === null) continue;
        table.push(
          json(`resource with ${field}=${JSON.stringify(value)}`, 'POST', '/resources', {
            ...RESOURCE,
            [field]: value,
          }),
        );
      }
    }
    table.push(
      json('resource without a body', 'POST', '/resources', ''),
      json('resource with an unknown field', 'POST', '/resources', { ...RESOURCE, audience: 'x' }),
      json('resource with a relative identifier', 'POST', '/resources', { ...RESOURCE, identifier: '/api' }),
      json('resource with a fragment', 'POST', '/resources', {
        ...RESOURCE,
        identifier: 'https://a.example/#f',
      }),
      json('resource with an admin scope', 'POST', '/resources', { ...RESOURCE, scope: 'clients:write' }),
      json('resource with a short lifetime', 'POST', '/resources', { ...RESOURCE, access_token_ttl: 10 }),
      json('change an unknown resource', 'PATCH', '/resources/res_nope', { name: 'x' }),
      json('create without a body', 'POST', '/clients', ''),
      json('create with invalid JSON', 'POST', '/clients', '{"client_name":'),
      json('create with a JSON array', 'POST', '/clients', '[]'),
      json('create with a JSON string', 'POST', '/clients', '"x"'),
      json('create with __proto__', 'POST', '/clients', '{"client_name":"x","__proto__":{"admin":true}}'),
      json('create with constructor', 'POST', '/clients', {
        client_name: 'x',
        constructor: { prototype: {} },
      }),
      json('create with an unknown field', 'POST', '/clients', { client_name: 'x', client_secret: 'mine' }),
      json('create with a secret hash', 'POST', '/clients', { client_name: 'x', secret_hash: '$argon2id$' }),
      json('create with a name of 10,000 characters', 'POST', '/clients', { client_name: long(10_000) }),
      json('create with a body over 1 MB', 'POST', '/clients', {
        client_name: 'x',
        description: long(1_100_000),
      }),
      json('create with a huge ttl', 'POST', '/clients', { client_name: 'x', access_token_ttl: 1e12 }),
      json('create with a negative ttl', 'POST', '/clients', { client_name: 'x', access_token_ttl: -60 }),
      json('create with a fractional ttl', 'POST', '/clients', { client_name: 'x', access_token_ttl: 60.5 }),
      json('create with an unknown grant', 'POST', '/clients', {
        client_name: 'x',
        grant_types: ['password'],
      }),
      json('create with an unknown method', 'POST', '/clients', {
        client_name: 'x',
        token_endpoint_auth_method: 'magic',
      }),
      json('create with a taken name', 'POST', '/clients', { client_name: 'target' }),
      json('create with an unknown application type', 'POST', '/clients', {
        client_name: 'x',
        application_type: 'desktop',
      }),
      json('create a code client with the oob label', 'POST', '/clients', {
        client_name: 'x',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        redirect_uris: ['urn:ietf:wg:oauth:2.0:oob'],
      }),
      json('rotate with an overlap of 0', 'POST', `/clients/${clientId}/secret`, {
        previous_secret_expires_in: 0,
      }),
      json('rotate with an overlap over a day', 'POST', `/clients/${clientId}/secret`, {
        previous_secret_expires_in: 86401,
      }),
      json('rotate with an overlap as a string', 'POST', `/clients/${clientId}/secret`, {
        previous_secret_expires_in: '60',
      }),
      json('rotate with an unknown field', 'POST', `/clients/${clientId}/secret`, { expires_in: 60 }),
      json('rotate with invalid JSON', 'POST', `/clients/${clientId}/secret`, '{"previous_'),
      json('end the overlap of an unknown client', 'DELETE', `/clients/${long(300)}/secret/previous`, ''),
      json('create with an unknown scope', 'POST', '/clients', { client_name: 'x', scope: 'everything' }),
      json('create with a bad redirect URI', 'POST', '/clients', {
        client_name: 'x',
        grant_types: ['authorization_code'],
        redirect_uris: ['http://evil.example/cb'],
      }),
      json('change to a taken name', 'PATCH', `/clients/${clientId}`, { client_name: 'Tessera admin' }),
      json('change the method', 'PATCH', `/clients/${clientId}`, { token_endpoint_auth_method: 'none' }),
      json('change a client id of 10,000 characters', 'PATCH', `/clients/${long(10_000)}`, {
        description: 'x',
      }),
      json('change with $gt in the path', 'PATCH', '/clients/%7B%22%24gt%22%3A%22%22%7D', {
        description: 'x',
      }),
      json('user with a wrong role', 'POST', '/users', {
        username: 'u',
        password: 'long enough password',
        role: 'root',
      }),
      json('user with a password of an object', 'POST', '/users', {
        username: 'u',
        password: { $ne: '' },
        role: 'member',
      }),
      json(
        'user with __proto__',
        'POST',
        '/users',
        '{"username":"u","password":"long enough password","role":"member","__proto__":{}}',
      ),
      json('key rotation with an option', 'POST', '/keys/rotate', { alg: 'RS256' }),
      json('key rotation with a JSON array', 'POST', '/keys/rotate', '[]'),
      json('key rotation with invalid JSON', 'POST', '/keys/rotate', '{"alg":'),
      json('account with a name of a number', 'POST', '/accounts', { name: 5 }),
      json('account with negative max_clients', 'POST', '/accounts', { name: 'a', max_clients: -1 }),
      json('account with huge max_clients', 'POST', '/accounts', { name: 'a', max_clients: 1e308 }),
      {
        name: 'create as a form',
        method: 'POST',
        path: '/admin/api/clients',
        headers: { authorization: `Bearer ${root}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'client_name=x',
      },
      {
        name: 'create with invalid UTF-8',
        method: 'POST',
        path: '/admin/api/clients',
        headers: { authorization: `Bearer ${root}`, 'content-type': 'application/json' },
        body: invalidUtf8('{"client_name":"'),
      },
    );
    const get = (
      name: string,
      path: string,
      headers: Record<string, string> = { authorization: `Bearer ${root}` },
    ): BadRequest => ({
      name,
      path: `/admin/api${path}`,
      headers,
    });
    table.push(
      get('a client id of 10,000 characters', `/clients/${long(10_000)}`),
      get('a bad cursor', '/clients?cursor=bad'),
      get('a cursor of 10,000 characters', `/clients?cursor=${long(10_000)}`),
      get('a limit of 0', '/users?limit=0'),
      get('a huge limit', `/audit?limit=${'9'.repeat(400)}`),
      get('a negative limit', '/accounts?limit=-5'),
      get('a duplicated limit', '/clients?limit=1&limit=2'),
      get('a duplicated q', '/clients?q=a&q=b'),
      get('a bad grant_type filter', '/clients?grant_type=%24gt'),
      get('a bad hours', `/clients/${clientId}/usage?hours=1000000`),
      get('no token', '/clients', {}),
      get('a malformed Authorization header', '/clients', { authorization: 'Bearer' }),
      get('an unknown token', '/clients', { authorization: 'Bearer abc' }),
      get('a token of 10,000 characters', '/clients', { authorization: `Bearer ${long(10_000)}` }),
      get('Basic instead of Bearer', '/clients', { authorization: 'Basic abc' }),
    );
    await assertTableRefused(tessera, root, table);
  });
});
