/** Small clients for the OAuth endpoints, returning status and parsed JSON body. */

export interface JsonResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export async function postForm(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: response.headers,
  };
}

export const basic = (clientId: string, secret: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

export interface Credentials {
  clientId: string;
  secret: string;
  method?: 'basic' | 'post';
}

/** Client-credentials token request, authenticating with Basic (default) or in the body. */
export function clientCredentials(base: string, creds: Credentials, extra: Record<string, string> = {}) {
  const form = { grant_type: 'client_credentials', ...extra };
  if (creds.method === 'post') {
    return postForm(`${base}/oauth/token`, {
      ...form,
      client_id: creds.clientId,
      client_secret: creds.secret,
    });
  }
  return postForm(`${base}/oauth/token`, form, basic(creds.clientId, creds.secret));
}

/**
 * Redeems a code (from `codeThroughForms`) with `extra` parameters: as the confidential client
 * `caller` (HTTP Basic) when given, else as the public client `request.clientId`.
 */
export function redeemCode(
  base: string,
  request: { clientId: string; redirectUri: string; code: string; verifier: string },
  extra: Record<string, string> = {},
  caller?: Credentials,
) {
  const form = {
    grant_type: 'authorization_code',
    code: request.code,
    code_verifier: request.verifier,
    redirect_uri: request.redirectUri,
    ...extra,
  };
  if (caller) return postForm(`${base}/oauth/token`, form, basic(caller.clientId, caller.secret));
  return postForm(`${base}/oauth/token`, { ...form, client_id: request.clientId });
}

export function introspect(base: string, caller: Credentials, token: string) {
  return postForm(`${base}/oauth/introspect`, { token }, basic(caller.clientId, caller.secret));
}

export function revoke(base: string, caller: Credentials, token: string) {
  return postForm(`${base}/oauth/revoke`, { token }, basic(caller.clientId, caller.secret));
}

/** The admin client of a test server (its secret is fixed by `startTessera`). */
export const ADMIN: Credentials = {
  clientId: 'tessera-admin',
  secret: 'test-admin-secret-that-is-long-enough-0123456789',
};

/**
 * A JWT access token for `resource` from `base`, asked for again until it is signed with `kid`:
 * another node takes up a rotation within a second (README, "Signing keys"). Fails after
 * `timeoutMs`, naming the kid it kept getting.
 */
export async function jwtSignedWith(
  base: string,
  creds: Credentials,
  resource: string,
  kid: string,
  timeoutMs = 10_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await clientCredentials(base, creds, { resource });
    if (res.status !== 200) throw new Error(`token request failed: ${JSON.stringify(res.body)}`);
    const token = String(res.body.access_token);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid?: string };
    if (header.kid === kid) return token;
    if (Date.now() > deadline) throw new Error(`${base} still signs with ${header.kid}, not ${kid}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
