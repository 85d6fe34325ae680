/**
 * The baseline the benchmark measures Tessera against: plain oidc-provider as its README sets it
 * up, with one static client and a plaintext secret (compared as a string), opaque
 * client-credentials tokens and introspection, on its memory adapter or on a minimal Redis
 * adapter. Nothing Tessera adds: no hashing, no client store, no logs.
 *
 * Run: node dist/bench/subjects/baseline.js <port> <memory|redis> [redis url]
 */
import { generateKeyPairSync } from 'node:crypto';
import { Redis } from 'ioredis';
import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { BENCH_CLIENT, BENCH_RESOURCE } from '../shared.js';

const [portArg = '0', adapterKind = 'memory', redisUrl = 'redis://127.0.0.1:6379/15', jwtAlg = 'ES256'] =
  process.argv.slice(2);

/** A signing key for `alg`, as a private JWK. */
const signingKey = (alg: string) => {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: alg.toLowerCase() };
};

/** The smallest Redis adapter that serves client credentials and introspection. */
function redisAdapter(redis: Redis) {
  return class RedisAdapter implements Adapter {
    constructor(private readonly model: string) {}
    private key(id: string) {
      return `baseline:${this.model}:${id}`;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      const key = this.key(id);
      if (expiresIn) await redis.set(key, JSON.stringify(payload), 'EX', expiresIn);
      else await redis.set(key, JSON.stringify(payload));
    }
    async find(id: string) {
      const data = await redis.get(this.key(id));
      return data ? (JSON.parse(data) as AdapterPayload) : undefined;
    }
    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume(id: string) {
      const found = await this.find(id);
      if (found)
        await redis.set(
          this.key(id),
          JSON.stringify({ ...found, consumed: Math.floor(Date.now() / 1000) }),
          'KEEPTTL',
        );
    }
    async destroy(id: string) {
      await redis.del(this.key(id));
    }
    async revokeByGrantId() {}
  };
}

const provider = new Provider(`http://127.0.0.1:${portArg}`, {
  ...(adapterKind === 'redis' ? { adapter: redisAdapter(new Redis(redisUrl)) } : {}),
  clients: [
    {
      client_id: BENCH_CLIENT.clientId,
      client_secret: BENCH_CLIENT.secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: BENCH_CLIENT.scope,
    },
  ],
  scopes: [BENCH_CLIENT.scope],
  jwks: { keys: [signingKey('RS256'), signingKey('ES256')] as never },
  routes: { token: '/oauth/token', introspection: '/oauth/introspect', jwks: '/oauth/jwks' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    // One resource server with JWT access tokens; without resource=, tokens stay opaque.
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      getResourceServerInfo: async (_ctx, identifier) => {
        if (identifier !== BENCH_RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: BENCH_CLIENT.scope,
          audience: BENCH_RESOURCE,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: jwtAlg as 'ES256' } },
        };
      },
    },
  },
  ttl: { ClientCredentials: 60 },
});
provider.listen(Number(portArg), () => process.stdout.write('ready\n'));
// A clean exit on the benchmark's SIGTERM, so `node --cpu-prof` can write its profile.
process.once('SIGTERM', () => process.exit(0));
