/**
 * Bare Koa with @koa/router: a POST route answering a small JSON object, the ceiling any Koa
 * application (oidc-provider and Tessera are Koa applications) can reach on this machine.
 *
 * Run: node dist/bench/subjects/bare-koa.js <port>
 */
import Router from '@koa/router';
import Koa from 'koa';

const app = new Koa();
const router = new Router();
router.post('/oauth/introspect', (ctx) => {
  ctx.body = { active: true, client_id: 'bench-client', scope: 'api:read', token_type: 'Bearer' };
});
app.use(router.routes());
app.listen(Number(process.argv[2] ?? 0), () => process.stdout.write('ready\n'));
