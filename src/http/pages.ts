import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';

/** The top of the project, from `src/` and from `dist/src/` alike. */
export const PROJECT_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../'.repeat(import.meta.url.includes('/dist/') ? 3 : 2),
);
const VIEWS = path.join(PROJECT_DIR, 'views');

/** The page renderer: Eta escapes every `<%= %>` interpolation by default. */
const views = new Eta({ views: VIEWS, cache: true });

/** Renders the page `name` of `views/`, never cached by the browser. */
export function renderPage(ctx: Context, name: string, data: Record<string, unknown>, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.body = views.render(`./${name}`, data);
}

/** Renders an HTML error page; nothing from the request is shown unescaped. */
export function renderErrorPage(ctx: Context, status: number, error: string, description?: string): void {
  renderPage(ctx, 'error', { error, description }, status);
}
