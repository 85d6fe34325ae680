import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { securityHeaders } from '../../src/http/security-headers.js';
import { ADMIN, basic } from '../support/oauth.js';
import { startTessera, type RunningTessera } from '../support/tessera.js';

/** What every response carries, and what HTML pages carry besides. */
function assertHeaders(res: Response, what: string, page: boolean) {
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
  const csp = res.headers.get('content-security-policy');
  if (page) {
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
    assert.match(csp ?? '', /frame-ancestors 'none'/, what);
    assert.match(csp ?? '', /script-src 'self'(;|$)/, what);
    assert.doesNotMatch(csp ?? '', /unsafe-inline|unsafe-eval/, what);
  } else {
    // JSON is never rendered: no page policy on it.
    assert.equal(csp, null, what);
  }
}

describe('security headers', () => {
  let plain: RunningTessera;

  before(async () => {
    plain = await startTessera();
  });
  after(async () => plain?.close());

  it('add HSTS to every answer when the issuer is https (as behind a TLS-terminating proxy)', async () => {
    const app = new Koa();
    app.use(securityHeaders('https://auth.example.com'));
    app.use((ctx) => {
      ctx.body = ctx.path === '/page' ? '<!doctype html><p>page</p>' : { ok: true };
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const [json, page] = await Promise.all([fetch(`${base}/`), fetch(`${base}/page`)]);
      for (const res of [json, page]) {
        assert.equal(res.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      }
      assert.match(page.headers.get('content-security-policy')!, /upgrade-insecure-requests/);
      assert.equal(json.headers.get('content-security-policy'), null);
    } finally {
      server.close();
    }
  });

  it('are on the OAuth endpoints, the sign-in page and an error page, without HSTS for an http issuer', async () => {
    const base = plain.url;
    const responses: [string, Response, boolean][] = [
      ['discovery', await fetch(`${base}/.well-known/openid-configuration`), false],
      ['jwks', await fetch(`${base}/oauth/jwks`), false],
      [
        'token',
        await fetch(`${base}/oauth/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...basic(ADMIN.clientId, ADMIN.secret),
          },
          body: 'grant_type=client_credentials',
        }),
        false,
      ],
      ['introspection', await fetch(`${base}/oauth/introspect`, { method: 'POST' }), false],
      ['admin API', await fetch(`${base}/admin/api/clients`), false],
      ['unknown path', await fetch(`${base}/nowhere`), false],
      ['error page', await fetch(`${base}/oauth/authorize?client_id=nobody&response_type=code`), true],
    ];
    const signIn = await fetch(
      `${base}/oauth/authorize?${new URLSearchParams({
        client_id: 'tessera-console',
        response_type: 'code',
        redirect_uri: `${base}/admin/callback`,
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      })}`,
      { redirect: 'manual' },
    );
    const interaction = await fetch(new URL(signIn.headers.get('location')!, base), {
      headers: {
        cookie: signIn.headers
          .getSetCookie()
          .map((c) => c.split(';')[0])
          .join('; '),
      },
    });
    assert.match(await interaction.text(), /Sign in/);
    responses.push(['sign-in page', interaction, true]);
    for (const [what, res, page] of responses) {
      assertHeaders(res, what, page);
      assert.equal(res.headers.get('strict-transport-security'), null, what);
    }
  });
});
