import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tokenFor } from '../support/admin.js';
import {
  assertTableRefused,
  FORM,
  rawBasic,
  type BadRequest,
  invalidUtf8,
  long,
  sendRaw,
} from '../support/bad-input.js';
import { ADMIN, basic } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const AUTH = basic(ADMIN.clientId, ADMIN.secret);

/** The same malformed requests at both endpoints: 2 × 27 rows. */
function table(path: string): BadRequest[] {
  const form = (name: string, body: string | Buffer, headers: Record<string, string> = AUTH): BadRequest => ({
    name: `${path}: ${name}`,
    path,
    headers: { ...FORM, ...headers },
    body,
  });
  return [
    form('missing token', ''),
    form('empty token', 'token='),
    form('duplicated token', 'token=a&token=b'),
    form('oversized body', `token=${long(1_100_000)}`),
    form('invalid UTF-8 in a duplicated token', invalidUtf8('token=a&token=')),
    form('bad percent-encoding in a duplicated token', 'token=%ZZ&token=%ZZ'),
    form('__proto__ key', '__proto__=x'),
    form('constructor key', 'constructor=x'),
    form('token as $gt', 'token[$gt]='),
    form('duplicated token_type_hint', 'token=x&token_type_hint=access_token&token_type_hint=refresh_token'),
    form('no client authentication', 'token=x', {}),
    form('client_id of 10,000 characters', `token=x&client_id=${long(10_000)}&client_secret=x`, {}),
    form('secret in header and body', `token=x&client_id=${ADMIN.clientId}&client_secret=${ADMIN.secret}`),
    form('Basic not base64', 'token=x', { authorization: 'Basic @@@' }),
    form('Basic without a colon', 'token=x', rawBasic('tessera-admin')),
    form('Basic with bad percent-encoding', 'token=x', rawBasic('%zz:%zz')),
    form('Basic empty', 'token=x', { authorization: 'Basic ' }),
    form('Basic with a wrong secret', 'token=x', rawBasic('tessera-admin:nope')),
    form('Basic with a 10,000-character id', 'token=x', rawBasic(`${long(10_000)}:x`)),
    form('Bearer instead of Basic', 'token=x', { authorization: 'Bearer x' }),
    {
      name: `${path}: JSON body`,
      path,
      headers: { 'content-type': 'application/json', ...AUTH },
      body: '{"token":"x"}',
    },
    { name: `${path}: text body`, path, headers: { 'content-type': 'text/plain', ...AUTH }, body: 'token=x' },
    { name: `${path}: no content type`, path, headers: AUTH, body: 'token=x' },
    {
      name: `${path}: wrong charset`,
      path,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=nope', ...AUTH },
      body: 'x=1',
    },
    { name: `${path}: GET`, method: 'GET', path: `${path}?token=x`, headers: AUTH },
    { name: `${path}: DELETE`, method: 'DELETE', path, headers: AUTH },
    { name: `${path}: query only`, path: `${path}?token=x`, headers: { ...FORM, ...AUTH }, body: '' },
  ];
}

const TABLE = [...table('/oauth/introspect'), ...table('/oauth/revoke')];

describe('bad input: introspection and revocation', () => {
  let tessera: RunningTessera;
  let root: string;
  before(async () => {
    tessera = await startTessera();
    root = await tokenFor(tessera.url);
  });
  after(async () => tessera.close());

  it(`refuses each of ${TABLE.length} malformed requests with a 4xx in RFC 6749 JSON, and changes nothing`, async () => {
    await assertTableRefused(tessera, root, TABLE);
    // The admin token is still active: nothing was revoked.
    const check = await sendRaw(tessera.url, {
      name: 'introspect',
      path: '/oauth/introspect',
      headers: { ...FORM, ...basic(ADMIN.clientId, ADMIN.secret) },
      body: `token=${root}`,
    });
    assert.equal(JSON.parse(check.text).active, true);
  });
});
