import { parse } from 'node:querystring';
import type { Context, Middleware, Next } from 'koa';
import { scopeList, type ScopeCatalog } from '../scopes/scope-catalog.js';

/** oidc-provider's own limit for request bodies. */
const BODY_LIMIT = 56 * 1024;

async function readForm(ctx: Context): Promise<Record<string, string | string[]> | undefined> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > BODY_LIMIT) return undefined;
    chunks.push(chunk);
  }
  const text = new TextDecoder(ctx.request.charset || 'utf-8').decode(Buffer.concat(chunks, received));
  return parse(text) as Record<string, string | string[]>;
}

/**
 * Contract section 10: asking for a scope is asking for everything it implies. oidc-provider
 * grants exactly the scopes a request names, so the `scope` parameter is expanded before it
 * reads the request: in the query of an authorization request, and in the form body of a posted
 * or pushed authorization request and of a token request (a refresh narrowing its scope).
 * A form body is handed on parsed, which oidc-provider accepts from an upstream parser.
 * Deployments whose scopes imply nothing skip this altogether.
 */
export function expandRequestedScope(catalog: ScopeCatalog, paths: ReadonlySet<string>): Middleware {
  const expanded = (scope: string): string | undefined => {
    const requested = new Set(scopeList(scope));
    const all = catalog.expand(requested);
    return all.length > requested.size ? all.join(' ') : undefined;
  };

  async function expanding(ctx: Context, next: Next) {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      const { scope } = ctx.query;
      const wider = typeof scope === 'string' ? expanded(scope) : undefined;
      if (wider !== undefined) ctx.query = { ...ctx.query, scope: wider };
      return next();
    }
    if (ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded')) return next();
    const form = await readForm(ctx);
    if (form === undefined) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'failed to parse the request body' };
      return;
    }
    const wider = typeof form.scope === 'string' ? expanded(form.scope) : undefined;
    if (wider !== undefined) form.scope = wider;
    ctx.request.body = form;
    return next();
  }

  // Deployments whose scopes imply nothing, and other endpoints, pass straight through.
  return function expandRequestedScope(ctx, next) {
    if (!catalog.hasImplications || !paths.has(ctx.path)) return next();
    return expanding(ctx, next);
  };
}
