import type { Context } from 'koa';
import type { Principal } from '../auth/principal.js';
import { invalidRequest } from '../errors.js';

/** The caller, as `adminAuth` resolved it. */
export const principalOf = (ctx: Context): Principal => ctx.state.principal as Principal;

/** `limit` and `cursor` of a listing: 1..100, default 20. */
export function listOptions(query: Record<string, unknown>): { limit: number; cursor?: string } {
  const { limit = '20', cursor } = query;
  if (typeof limit !== 'string' || !/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 100) {
    throw invalidRequest('limit must be a whole number between 1 and 100');
  }
  if (cursor !== undefined && (typeof cursor !== 'string' || cursor === ''))
    throw invalidRequest('cursor must be a string');
  return { limit: Number(limit), ...(cursor ? { cursor } : {}) };
}

/** The parsed JSON body, or undefined when the request carried none (or not as JSON). */
export function jsonBody(ctx: Context): unknown {
  return ctx.request.rawBody === undefined || ctx.request.rawBody === '' ? undefined : ctx.request.body;
}
