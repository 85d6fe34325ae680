import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Router from '@koa/router';
import type { Context } from 'koa';
import { notFound } from '../errors.js';
import { PROJECT_DIR } from './pages.js';

const require = createRequire(import.meta.url);

/** Every file Tessera serves as-is: its own styles and script, and Pico's stylesheet. */
const FILES: Record<string, { file: string; type: string }> = {
  'pico.min.css': { file: require.resolve('@picocss/pico/css/pico.min.css'), type: 'text/css' },
  'tessera.css': { file: path.join(PROJECT_DIR, 'public', 'tessera.css'), type: 'text/css' },
  'console.js': { file: path.join(PROJECT_DIR, 'public', 'console.js'), type: 'text/javascript' },
};

/** `/assets/<name>`: the pages' stylesheets and script, from this server only (contract section 7). */
export function assetRoutes(): Router {
  const loaded = new Map(
    Object.entries(FILES).map(([name, f]) => [name, { ...f, body: readFileSync(f.file) }]),
  );
  const router = new Router({ prefix: '/assets' });
  router.get('/:name', function serveAsset(ctx: Context) {
    const asset = loaded.get(ctx.params.name!);
    if (!asset) throw notFound('no such asset');
    ctx.type = asset.type;
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.body = asset.body;
  });
  return router;
}
