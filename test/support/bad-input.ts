import assert from 'node:assert/strict';
import { api } from './admin.js';
import type { RunningTessera } from './tessera.js';

/** One malformed request of a table. */
export interface BadRequest {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends `request` as it is: no encoding, no redirects followed. */
export async function sendRaw(base: string, request: BadRequest): Promise<RawAnswer> {
  const res = await fetch(`${base}${request.path}`, {
    method: request.method ?? (request.body === undefined ? 'GET' : 'POST'),
    headers: request.headers ?? {},
    redirect: 'manual',
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A 4xx with the RFC 6749 / contract JSON error shape. */
export function assertJsonError(answer: RawAnswer, name: string): void {
  assert.ok(
    answer.status >= 400 && answer.status < 500,
    `${name}: status ${answer.status} ${answer.text.slice(0, 200)}`,
  );
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, `${name}: JSON`);
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  assert.equal(typeof body.error, 'string', `${name}: error code`);
  assert.match(String(body.error), /^[a-z_]+$/, `${name}: error code`);
  if ('error_description' in body)
    assert.equal(typeof body.error_description, 'string', `${name}: description`);
}

/** Everything an admin can list in the bootstrap account, to compare before and after. */
export async function snapshot(tessera: Pick<RunningTessera, 'url'>, token: string): Promise<string> {
  const lists = await Promise.all(
    [
      '/clients?limit=100',
      '/resources?limit=100',
      '/users?limit=100',
      '/accounts?limit=100',
      '/audit?limit=100',
      '/keys',
    ].map(async (path) => {
      const res = await api(tessera, token, 'GET', path);
      assert.equal(res.status, 200, path);
      return res.body;
    }),
  );
  return JSON.stringify(lists);
}

/** The content type of a form body. */
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** An `Authorization: Basic` header of `text` as it is, well-formed or not. */
export const rawBasic = (text: string) => ({
  authorization: `Basic ${Buffer.from(text).toString('base64')}`,
});

/** `n` copies of `unit`, for oversized values. */
export const long = (n: number, unit = 'a') => unit.repeat(n);

/** Bytes that are not UTF-8, in a form body. */
export const invalidUtf8 = (prefix: string): Buffer =>
  Buffer.concat([Buffer.from(prefix), Buffer.from([0xff, 0xfe, 0xc3, 0x28])]);

/**
 * Runs `check` on every row and fails once, listing every row that was not refused as it
 * should be, so a table shows all its problems at once.
 */
export async function checkEvery<T>(rows: readonly T[], check: (row: T) => Promise<void>): Promise<void> {
  const failures: string[] = [];
  for (const row of rows) {
    try {
      await check(row);
    } catch (error) {
      failures.push((error as Error).message.split('\n')[0]!);
    }
  }
  assert.deepEqual(failures, []);
}

/** A table of JSON endpoints: every row refused in the RFC or contract shape, nothing changed. */
export async function assertTableRefused(
  tessera: Pick<RunningTessera, 'url'>,
  token: string,
  table: readonly BadRequest[],
): Promise<void> {
  assert.ok(table.length >= 50, `${table.length} rows`);
  const before = await snapshot(tessera, token);
  await checkEvery(table, async (request) =>
    assertJsonError(await sendRaw(tessera.url, request), request.name),
  );
  assert.equal(await snapshot(tessera, token), before);
}
