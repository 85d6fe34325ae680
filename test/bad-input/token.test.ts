import { after, before, describe, it } from 'node:test';
import { tokenFor } from '../support/admin.js';
import {
  assertTableRefused,
  FORM,
  rawBasic,
  type BadRequest,
  invalidUtf8,
  long,
} from '../support/bad-input.js';
import { ADMIN, basic } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const AUTH = basic(ADMIN.clientId, ADMIN.secret);

const form = (name: string, body: string | Buffer, headers: Record<string, string> = AUTH): BadRequest => ({
  name,
  path: '/oauth/token',
  headers: { ...FORM, ...headers },
  body,
});

/** Malformed token requests: each is refused with a 4xx in RFC 6749 JSON. */
const TABLE: BadRequest[] = [
  form('no body', ''),
  form('missing grant_type', 'scope=admin'),
  form('empty grant_type', 'grant_type='),
  form('unknown grant_type', 'grant_type=password'),
  form('implicit grant_type', 'grant_type=implicit'),
  form('duplicated grant_type', 'grant_type=client_credentials&grant_type=client_credentials'),
  form('two grant types', 'grant_type=client_credentials&grant_type=refresh_token'),
  form('oversized grant_type', `grant_type=${long(10_000)}`),
  form('grant_type with a NUL', 'grant_type=client_credentials%00'),
  form('unknown scope', 'grant_type=client_credentials&scope=nothing-like-it'),
  form('oversized scope', `grant_type=client_credentials&scope=${long(20_000, 'x ')}`),
  form('duplicated scope', 'grant_type=client_credentials&scope=admin&scope=admin'),
  form('grant_type as $gt', 'grant_type[$gt]=client_credentials'),
  form('__proto__ key', 'grant_type=client_credentials&__proto__=x&scope=nothing'),
  form('constructor key', 'grant_type=client_credentials&constructor=x&scope=nothing'),
  form('__proto__[admin] key', '__proto__[admin]=1&grant_type=x'),
  form('body over 1 MB', `grant_type=client_credentials&pad=${long(1_100_000)}`),
  form('invalid UTF-8', invalidUtf8('grant_type=client_credentials&scope=')),
  form('invalid UTF-8 in the grant type', invalidUtf8('grant_type=')),
  form('bad percent-encoding', 'grant_type=client%ZZcredentials'),
  form(
    'client_id of 10,000 characters',
    `grant_type=client_credentials&client_id=${long(10_000)}&client_secret=x`,
    {},
  ),
  form('duplicated client_id', `grant_type=client_credentials&client_id=a&client_id=b&client_secret=x`, {}),
  form(
    'duplicated client_secret',
    `grant_type=client_credentials&client_id=${ADMIN.clientId}&client_secret=a&client_secret=b`,
    {},
  ),
  form(
    'secret in header and body',
    `grant_type=client_credentials&client_id=${ADMIN.clientId}&client_secret=${ADMIN.secret}`,
  ),
  form('no client authentication', 'grant_type=client_credentials', {}),
  form('Basic not base64', 'grant_type=client_credentials', { authorization: 'Basic !!!not-base64!!!' }),
  form('Basic without a colon', 'grant_type=client_credentials', rawBasic('tessera-admin')),
  form('Basic with bad percent-encoding', 'grant_type=client_credentials', rawBasic('%zz:%zz')),
  form('Basic empty', 'grant_type=client_credentials', { authorization: 'Basic ' }),
  form('Basic of an empty pair', 'grant_type=client_credentials', rawBasic(':')),
  form('Basic with an empty secret', 'grant_type=client_credentials', rawBasic('tessera-admin:')),
  form('Basic with a 10,000-character id', 'grant_type=client_credentials', rawBasic(`${long(10_000)}:x`)),
  form('Basic with a wrong secret', 'grant_type=client_credentials', rawBasic('tessera-admin:wrong')),
  form('Bearer instead of Basic', 'grant_type=client_credentials', { authorization: 'Bearer abc' }),
  form('unknown scheme', 'grant_type=client_credentials', { authorization: 'Digest abc' }),
  form('refresh without a token', 'grant_type=refresh_token'),
  form('refresh with a 10,000-character token', `grant_type=refresh_token&refresh_token=${long(10_000)}`),
  form('code without a code', 'grant_type=authorization_code&redirect_uri=https://a.example/cb'),
  form(
    'code of 10,000 characters',
    `grant_type=authorization_code&code=${long(10_000)}&redirect_uri=https://a.example/cb&code_verifier=${long(43)}`,
  ),
  form(
    'code with a short verifier',
    'grant_type=authorization_code&code=x&redirect_uri=https://a.example/cb&code_verifier=short',
  ),
  form('scope with a control character', 'grant_type=client_credentials&scope=admin%0Aadmin'),
  form('negative number as scope', 'grant_type=client_credentials&scope=-1'),
  form('huge number as scope', `grant_type=client_credentials&scope=${'9'.repeat(400)}`),
  {
    name: 'JSON where a form is expected',
    path: '/oauth/token',
    headers: { 'content-type': 'application/json', ...AUTH },
    body: '{"grant_type":"client_credentials"}',
  },
  {
    name: 'text/plain body',
    path: '/oauth/token',
    headers: { 'content-type': 'text/plain', ...AUTH },
    body: 'grant_type=client_credentials',
  },
  {
    name: 'XML body',
    path: '/oauth/token',
    headers: { 'content-type': 'application/xml', ...AUTH },
    body: '<grant_type>x</grant_type>',
  },
  {
    name: 'multipart body',
    path: '/oauth/token',
    headers: { 'content-type': 'multipart/form-data; boundary=x', ...AUTH },
    body: '--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--x--',
  },
  { name: 'no content type', path: '/oauth/token', headers: AUTH, body: 'grant_type=client_credentials' },
  form('grant_type in another case', 'Grant_Type=client_credentials'),
  { name: 'GET', method: 'GET', path: '/oauth/token?grant_type=client_credentials', headers: AUTH },
  {
    name: 'PUT',
    method: 'PUT',
    path: '/oauth/token',
    headers: { ...FORM, ...AUTH },
    body: 'grant_type=client_credentials',
  },
  {
    name: 'parameters in the query string',
    path: '/oauth/token?grant_type=client_credentials',
    headers: { ...FORM, ...AUTH },
    body: '',
  },
];

describe('bad input: the token endpoint', () => {
  let tessera: RunningTessera;
  let root: string;
  before(async () => {
    tessera = await startTessera();
    root = await tokenFor(tessera.url);
  });
  after(async () => tessera.close());

  it(`refuses each of ${TABLE.length} malformed requests with a 4xx in RFC 6749 JSON, and changes nothing`, async () => {
    await assertTableRefused(tessera, root, TABLE);
  });
});
