import Router from '@koa/router';

/** A store as the readiness check sees it: a name and a ping. */
export interface Pingable {
  name: string;
  ping(): Promise<void>;
}

const PING_TIMEOUT_MS = 2000;

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `/healthz` (the process runs) and `/readyz` (every store answers). */
export function healthRoutes(stores: Pingable[]): Router {
  const router = new Router();
  router.get('/healthz', function live(ctx) {
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async function ready(ctx) {
    const results = await Promise.all(
      stores.map(async (store) => {
        try {
          await withTimeout(store.ping(), PING_TIMEOUT_MS);
          return [store.name, 'up'] as const;
        } catch {
          return [store.name, 'down'] as const;
        }
      }),
    );
    const down = results.filter(([, state]) => state === 'down').map(([name]) => name);
    ctx.set('cache-control', 'no-store');
    ctx.status = down.length === 0 ? 200 : 503;
    ctx.body = {
      status: down.length === 0 ? 'ready' : 'unavailable',
      stores: Object.fromEntries(results),
      ...(down.length ? { down } : {}),
    };
  });
  return router;
}

/** `GET /metrics`: Prometheus text. Meant for the operator's scraper: restrict it at the proxy. */
export function metricsRoutes(contentType: string, scrape: () => Promise<string>): Router {
  const router = new Router();
  router.get('/metrics', async function serveMetrics(ctx) {
    ctx.set('cache-control', 'no-store');
    ctx.type = contentType;
    ctx.body = await scrape();
  });
  return router;
}
