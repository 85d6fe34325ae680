import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, credentialsOf, tokenFor } from '../support/admin.js';
import { checkEvery, long, sendRaw, snapshot, type RawAnswer } from '../support/bad-input.js';
import { pkce } from '../support/browser.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

const REDIRECT = 'https://app.example.com/callback';

/**
 * RFC 6749 4.1.2.1: before the client and redirect URI are known good, an error page (400, HTML,
 * no redirect); after, a redirect to the registered URI with `error` (and the state).
 */
function assertAuthorizationError(answer: RawAnswer, name: string, expect: 'page' | 'redirect') {
  if (expect === 'page') {
    assert.equal(answer.status, 400, `${name}: ${answer.status}`);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/html/, name);
    assert.equal(answer.headers.get('location'), null, `${name}: no redirect`);
    return;
  }
  assert.ok(
    answer.status === 303 || answer.status === 302,
    `${name}: ${answer.status} ${answer.text.slice(0, 200)}`,
  );
  const location = new URL(answer.headers.get('location') ?? '', 'http://invalid.example');
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT, `${name}: redirected to ${location.href}`);
  // In the query, or in the fragment for response types that use it.
  const error =
    location.searchParams.get('error') ?? new URLSearchParams(location.hash.slice(1)).get('error');
  assert.match(error ?? '', /^[a-z_]+$/, `${name}: error`);
}

describe('bad input: the authorization endpoint', () => {
  let tessera: RunningTessera;
  let root: string;
  let clientId: string;

  before(async () => {
    tessera = await startTessera();
    root = await tokenFor(tessera.url);
    clientId = credentialsOf(
      await api(tessera, root, 'POST', '/clients', {
        client_name: 'browser app',
        grant_types: ['authorization_code'],
        redirect_uris: [REDIRECT],
        scope: 'openid profile',
      }),
    ).clientId;
  });
  after(async () => tessera.close());

  it('answers each of 50 malformed requests with an error page or an error redirect, and changes nothing', async () => {
    const { challenge } = pkce();
    const good = () => ({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: 'openid',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const query = (params: Record<string, string | undefined>, extra = '') =>
      `/oauth/authorize?${new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined))}${extra}`;
    const rows: [name: string, path: string, expect: 'page' | 'redirect'][] = [
      ['no parameters', '/oauth/authorize', 'page'],
      ['missing client_id', query({ ...good(), client_id: undefined }), 'page'],
      ['empty client_id', query({ ...good(), client_id: '' }), 'page'],
      ['unknown client_id', query({ ...good(), client_id: 'nobody' }), 'page'],
      ['client_id of 10,000 characters', query({ ...good(), client_id: long(10_000) }), 'page'],
      ['duplicated client_id', query(good(), `&client_id=${clientId}`), 'page'],
      ['client_id as $gt', query({ ...good(), client_id: undefined }, '&client_id[$gt]='), 'page'],
      ['unregistered redirect_uri', query({ ...good(), redirect_uri: 'https://evil.example/cb' }), 'page'],
      [
        'redirect_uri of 10,000 characters',
        query({ ...good(), redirect_uri: `${REDIRECT}?${long(10_000)}` }),
        'page',
      ],
      ['redirect_uri not a URI', query({ ...good(), redirect_uri: 'not a uri' }), 'page'],
      ['duplicated redirect_uri', query(good(), `&redirect_uri=${encodeURIComponent(REDIRECT)}`), 'redirect'],
      ['redirect_uri with a fragment', query({ ...good(), redirect_uri: `${REDIRECT}#x` }), 'page'],
      ['javascript: redirect_uri', query({ ...good(), redirect_uri: 'javascript:alert(1)' }), 'page'],
      ['missing response_type', query({ ...good(), response_type: undefined }), 'redirect'],
      ['response_type token', query({ ...good(), response_type: 'token' }), 'redirect'],
      ['response_type id_token', query({ ...good(), response_type: 'id_token' }), 'redirect'],
      ['unknown response_type', query({ ...good(), response_type: 'magic' }), 'redirect'],
      ['duplicated response_type', query(good(), '&response_type=code'), 'redirect'],
      ['missing code_challenge', query({ ...good(), code_challenge: undefined }), 'redirect'],
      ['plain PKCE', query({ ...good(), code_challenge_method: 'plain' }), 'redirect'],
      ['unknown PKCE method', query({ ...good(), code_challenge_method: 'S512' }), 'redirect'],
      ['short code_challenge', query({ ...good(), code_challenge: 'abc' }), 'redirect'],
      ['code_challenge of 10,000 characters', query({ ...good(), code_challenge: long(10_000) }), 'redirect'],
      ['duplicated code_challenge', query(good(), `&code_challenge=${challenge}`), 'redirect'],
      [
        'duplicated response_mode',
        query({ ...good(), response_mode: 'query' }, '&response_mode=query'),
        'redirect',
      ],
      ['scope the client may not have', query({ ...good(), scope: 'openid admin' }), 'redirect'],
      ['duplicated scope', query(good(), '&scope=openid'), 'redirect'],
      ['duplicated state', query(good(), '&state=t'), 'redirect'],
      ['invalid prompt', query({ ...good(), prompt: 'sometimes' }), 'redirect'],
      ['prompt none without a session', query({ ...good(), prompt: 'none' }), 'redirect'],
      ['prompt none with login', query({ ...good(), prompt: 'none login' }), 'redirect'],
      ['max_age not a number', query({ ...good(), max_age: 'soon' }), 'redirect'],
      ['negative max_age', query({ ...good(), max_age: '-5' }), 'redirect'],
      ['response_mode unknown', query({ ...good(), response_mode: 'telepathy' }), 'redirect'],
      ['request object', query({ ...good(), request: 'e30.e30.' }), 'redirect'],
      ['request_uri', query({ ...good(), request_uri: 'https://evil.example/r' }), 'redirect'],
      ['registration', query({ ...good(), registration: '{}' }), 'redirect'],
      [
        'duplicated login_hint with prompt',
        query({ ...good(), prompt: 'login', login_hint: 'a' }, '&login_hint=b'),
        'redirect',
      ],
      ['duplicated display', query({ ...good(), display: 'page' }, '&display=popup'), 'redirect'],
      ['id_token_hint garbage', query({ ...good(), id_token_hint: 'garbage' }), 'redirect'],
      ['duplicated id_token_hint', query({ ...good(), id_token_hint: 'a' }, '&id_token_hint=b'), 'redirect'],
      ['duplicated nonce', query({ ...good(), nonce: 'a' }, '&nonce=b'), 'redirect'],
      ['duplicated code_challenge_method', query(good(), '&code_challenge_method=S256'), 'redirect'],
      [
        'duplicated claims_locales',
        query({ ...good(), claims_locales: 'en' }, '&claims_locales=de'),
        'redirect',
      ],
      ['ui_locales duplicated', query({ ...good(), ui_locales: 'en' }, '&ui_locales=de'), 'redirect'],
      ['acr_values duplicated', query({ ...good(), acr_values: 'a' }, '&acr_values=b'), 'redirect'],
      ['login_hint duplicated', query({ ...good(), login_hint: 'a' }, '&login_hint=b'), 'redirect'],
      ['max_age duplicated', query({ ...good(), max_age: '1' }, '&max_age=2'), 'redirect'],
      ['prompt duplicated', query({ ...good(), prompt: 'login' }, '&prompt=consent'), 'redirect'],
      [
        'tessera_account duplicated',
        query({ ...good(), tessera_account: 'a' }, '&tessera_account=b'),
        'redirect',
      ],
    ];
    assert.ok(rows.length >= 50);
    const before = await snapshot(tessera, root);
    await checkEvery(rows, async ([name, path, expect]) =>
      assertAuthorizationError(await sendRaw(tessera.url, { name, path }), name, expect),
    );
    assert.equal(await snapshot(tessera, root), before);
  });
});
