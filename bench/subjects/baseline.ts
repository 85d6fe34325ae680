/**
 * The baselines the benchmark measures Tessera against: plain oidc-provider as its README sets it
 * up, with one static client and a plaintext secret (compared as a string), opaque
 * client-credentials tokens and introspection, on its memory adapter, on a minimal Redis adapter
 * (one SET per token), or on an adapter that stores as oidc-provider's example Redis adapter
 * does (`example-redis`: a MULTI with SET and EXPIRE per token, HSET for consumable models).
 * Nothing Tessera adds: no hashing, no client store, no logs.
 *
 * Run: node dist/bench/subjects/baseline.js <port> <memory|redis|example-redis> [redis url] [alg]
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

/** Models oidc-provider's example adapter keeps as hashes, so `consume` is one HSET. */
const CONSUMABLE = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);
/** Models its example adapter lists under their grant, for revocation by grant. */
const GRANTABLE = new Set([...CONSUMABLE, 'AccessToken']);

/**
 * Storage as oidc-provider's example Redis adapter does it, with its defaults (one connection,
 * no pipelining): each record a MULTI of SET (or HSET) and EXPIRE, plus the grant list, uid and
 * user-code keys where the payload has them; each lookup a GET (or HGETALL).
 */
function exampleRedisAdapter(redis: Redis) {
  return class ExampleRedisAdapter implements Adapter {
    constructor(private readonly model: string) {}
    private key(id: string) {
      return `example:${this.model}:${id}`;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      const key = this.key(id);
      const multi = redis.multi();
      if (CONSUMABLE.has(this.model)) multi.hset(key, { payload: JSON.stringify(payload) });
      else multi.set(key, JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      if (GRANTABLE.has(this.model) && payload.grantId) {
        const grantKey = `example:grant:${payload.grantId}`;
        multi.rpush(grantKey, key);
        if (expiresIn > (await redis.ttl(grantKey))) multi.expire(grantKey, expiresIn);
      }
      for (const [kind, value] of [
        ['userCode', payload.userCode],
        ['uid', payload.uid],
      ] as const) {
        if (!value) continue;
        multi.set(`example:${kind}:${value}`, id);
        multi.expire(`example:${kind}:${value}`, expiresIn);
      }
      await multi.exec();
    }
    async find(id: string) {
      if (!CONSUMABLE.has(this.model)) {
        const data = await redis.get(this.key(id));
        return data ? (JSON.parse(data) as AdapterPayload) : undefined;
      }
      const { payload, ...rest } = await redis.hgetall(this.key(id));
      return payload ? ({ ...rest, ...JSON.parse(payload) } as AdapterPayload) : undefined;
    }
    async findByUid(uid: string) {
      const id = await redis.get(`example:uid:${uid}`);
      return id ? this.find(id) : undefined;
    }
    async findByUserCode(userCode: string) {
      const id = await redis.get(`example:userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }
    async consume(id: string) {
      await redis.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
    }
    async destroy(id: string) {
      await redis.del(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      const grantKey = `example:grant:${grantId}`;
      const multi = redis.multi();
      for (const token of await redis.lrange(grantKey, 0, -1)) multi.del(token);
      multi.del(grantKey);
      await multi.exec();
    }
  };
}

const adapters = {
  memory: () => ({}),
  redis: () => ({ adapter: redisAdapter(new Redis(redisUrl)) }),
  'example-redis': () => ({ adapter: exampleRedisAdapter(new Redis(redisUrl)) }),
};

const provider = new Provider(`http://127.0.0.1:${portArg}`, {
  ...adapters[adapterKind as keyof typeof adapters](),
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
