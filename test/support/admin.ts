import { ADMIN, clientCredentials, type Credentials } from './oauth.js';
import { after, before } from 'node:test';
import { startTessera, type RunningTessera } from './tessera.js';

export interface ApiResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** A client-credentials token for `creds` (the bootstrap admin by default). */
export async function tokenFor(base: string, creds: Credentials = ADMIN, scope?: string): Promise<string> {
  const res = await clientCredentials(base, creds, scope ? { scope } : {});
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(res.body)}`);
  return String(res.body.access_token);
}

/** One admin API call with a bearer token and an optional JSON body (or raw string). */
export async function api(
  tessera: Pick<RunningTessera, 'url'> | string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse> {
  const base = typeof tessera === 'string' ? tessera : tessera.url;
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}/admin/api${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: res.headers,
  };
}

/** The credentials a `POST /clients` response hands out (client id and, if any, the secret). */
export function credentialsOf(created: ApiResponse): Credentials {
  return {
    clientId: String((created.body.client as { client_id: string }).client_id),
    secret: String(created.body.client_secret ?? ''),
  };
}

/** A test server for one `describe`, with the bootstrap admin's token, set up before its tests. */
export interface AdminHarness {
  tessera: RunningTessera;
  /** A token of `tessera-admin` (scope `admin accounts:admin`). */
  token: string;
}

/** Starts Tessera (with `options`) before the enclosing suite's tests and stops it after them. */
export function adminHarness(options: Parameters<typeof startTessera>[0] = {}): AdminHarness {
  const harness = {} as AdminHarness;
  before(async () => {
    harness.tessera = await startTessera(options);
    harness.token = await tokenFor(harness.tessera.url);
  });
  after(async () => harness.tessera?.close());
  return harness;
}
