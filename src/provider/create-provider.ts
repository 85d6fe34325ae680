import Provider, {
  errors,
  interactionPolicy,
  type Configuration,
  type KoaContextWithOIDC,
  type ResourceServer,
} from 'oidc-provider';
import type { Config } from '../config.js';
import { EXTRA_CLIENT_PROPERTIES } from '../clients/client-model.js';
import type { ClientDirectory } from '../clients/client-directory.js';
import { AUTH_METHODS } from '../clients/client-schema.js';
import { LOOPBACK_HOSTS } from '../clients/redirect-uris.js';
import type { SecretChecker } from '../crypto/secret-checker.js';
import type { KeySet } from '../keys/signing-keys.js';
import { subjectDn, thumbprint } from '../pki/certificates.js';
import type { ClientCa } from '../pki/pki.js';
import { requestCertificate, type CertificateSource } from '../pki/request-certificate.js';
import type { ClientStore } from '../stores/client-store.js';
import type { ModelAdapter, TokenPayload, TokenStore } from '../stores/token-store.js';
import { registerClientCredentialsGrant } from './client-credentials.js';
import { installHashedSecretCheck } from './hashed-secrets.js';
import { requestedScope } from './requested-scope.js';
import { renderErrorPage, renderPage } from '../http/pages.js';
import { CONSOLE_ACCOUNT_PARAM } from '../interactions/login-service.js';
import type { Consents } from '../interactions/consents.js';
import { scopeList } from '../scopes/scope-catalog.js';

export interface ProviderDeps {
  config: Config;
  clientStore: ClientStore;
  tokenStore: TokenStore;
  /** The keys to sign with (the current key of each algorithm first) and to publish. */
  keys: KeySet;
  cookieKeys: string[];
  clientCa: ClientCa;
  certificateSource: CertificateSource;
  /** Clients and resource servers as they are now, and the throttle of the client presented. */
  directory: ClientDirectory;
  secrets: SecretChecker;
  /** Told which of a client's secrets authenticated it (for its `last_used_at`). */
  secretUsed?: (clientId: string, secretId: string) => void;
  /** The scopes users granted clients, remembered across sign-ins. */
  consents: Pick<Consents, 'granted'>;
  /** Base URL of the mTLS listener (`https://host:MTLS_PORT`), or none when it is off. */
  mtlsBaseUrl: string | undefined;
}

/** The contract's endpoint paths (section 3), relative to the issuer. */
export const ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  jwks: '/oauth/jwks',
  userinfo: '/oauth/userinfo',
  end_session: '/oauth/logout',
  pushed_authorization_request: '/oauth/par',
  code_verification: '/oauth/device',
  device_authorization: '/oauth/device/auth',
  backchannel_authentication: '/oauth/backchannel',
  registration: '/oauth/register',
  challenge: '/oauth/challenge',
} as const;

/** Lifetime of ID tokens (seconds): with access tokens', what a signing key must outlive. */
export const ID_TOKEN_TTL = 3600;

/** Callers see only tokens of their own account (`ownerAccount`); public clients see nothing. */
export function mayIntrospect(
  caller: { clientAuthMethod?: string | undefined; [key: string]: unknown },
  ownerAccount: unknown,
): boolean {
  return (
    caller.clientAuthMethod !== 'none' && ownerAccount !== undefined && ownerAccount === caller['account_id']
  );
}

/** RFC 7009: a client revokes only its own tokens; what another's answers. */
export const NOT_OWN_TOKEN = 'client is not authorized to revoke the presented token';

/** The endpoints that authenticate clients, whose errors RFC 6749 section 5.2 shapes. */
export const CLIENT_AUTH_ROUTES: ReadonlySet<string> = new Set([
  ROUTES.token,
  ROUTES.introspection,
  ROUTES.revocation,
]);

/**
 * The algorithms `private_key_jwt` assertions may use (RFC 7523). No HMAC: secrets are stored
 * as argon2id hashes, so `client_secret_jwt` cannot be offered.
 */
export const CLIENT_AUTH_SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'];

/**
 * A record that names a client (`clientId`) is found only while that client is current: not
 * deleted, not disabled, its service user enabled (the client directory, which every node sees
 * change on the very next request). So whatever a deleted client held is refused at once on
 * every node whether or not the store has removed it yet (the Redis store leaves
 * client-credentials tokens to expire), and a disabled client's tokens are inactive for as long
 * as it stays disabled. A record the request's combined read already fetched is not read again.
 * Writes go straight to the store.
 */
export function currentClientsOnly(
  model: string,
  adapter: ModelAdapter,
  directory: Pick<ClientDirectory, 'current' | 'takeRecord'>,
): ModelAdapter {
  const checked = async (found: Promise<TokenPayload | undefined>): Promise<TokenPayload | undefined> => {
    const record = await found;
    if (typeof record?.clientId !== 'string') return record;
    return (await directory.current(record.clientId)) ? record : undefined;
  };
  return {
    ...adapter,
    find: (id) => {
      const read = directory.takeRecord(model, id);
      return checked(read ? Promise.resolve(read.record) : adapter.find(id));
    },
    findByUid: (uid) => checked(adapter.findByUid(uid)),
    findByUserCode: (userCode) => checked(adapter.findByUserCode(userCode)),
  };
}

/** The name of the client a logout page is about, if the request named one. */
const clientNameOf = (ctx: KoaContextWithOIDC): string | undefined => {
  const client = ctx.oidc.client;
  return client ? (client.clientName ?? client.clientId) : undefined;
};

/**
 * oidc-provider's prompts, with one more reason to sign in: the session's user is no longer
 * found (disabled or deleted since). Without it the provider would go on to consent with no user.
 */
function interactionPolicyWithActiveUsers() {
  const policy = interactionPolicy.base();
  policy
    .get('login')!
    .checks.add(
      new interactionPolicy.Check('inactive_user', 'the signed-in user is no longer active', (ctx) =>
        ctx.oidc.session?.accountId && !ctx.oidc.account
          ? interactionPolicy.Check.REQUEST_PROMPT
          : interactionPolicy.Check.NO_NEED_TO_PROMPT,
      ),
      0,
    );
  return policy;
}

/**
 * Builds the oidc-provider instance: protocol settings, storage through the two ports, argon2id
 * secret checks, per-client token lifetimes and the client-credentials scope rules.
 */
export function createProvider(deps: ProviderDeps): Provider {
  const { config, clientStore, tokenStore, clientCa, certificateSource } = deps;
  const clientCertificate = (ctx: KoaContextWithOIDC) => requestCertificate(ctx, certificateSource);
  const scopes = requestedScope(config.scopeCatalog);

  const adapters = new Map<string, object>();
  const adapterFor = (name: string): object => {
    let adapter = adapters.get(name);
    if (!adapter) {
      // Store failures are StoreUnavailableError, which oidc-provider renders as 503 itself.
      adapter =
        name === 'Client'
          ? clientAdapter
          : currentClientsOnly(name, tokenStore.adapter(name), deps.directory);
      adapters.set(name, adapter);
    }
    return adapter;
  };

  // Clients are served by the client directory, which the provider asks on every request.
  const clientAdapter = {
    find: (id: string) => deps.directory.client(id),
    async upsert() {
      throw new Error('clients are managed through the admin API');
    },
    async destroy() {
      throw new Error('clients are managed through the admin API');
    },
  };

  /**
   * A client's own lifetime, never above the deployment's current maximum; for a resource
   * server with a lifetime of its own, the shorter of the two (contract section 12).
   */
  const accessTokenTtl = (
    _ctx: unknown,
    token: { resourceServer?: { accessTokenTTL?: number | undefined } | undefined },
    client: { [key: string]: unknown } | undefined,
  ): number => {
    const own = client?.['access_token_ttl'];
    const resource = token.resourceServer?.accessTokenTTL ?? Infinity;
    return Math.min(
      typeof own === 'number' ? own : config.accessTokenTtl,
      resource,
      config.maxAccessTokenTtl,
    );
  };

  /**
   * RFC 8707: a resource server of the client's own account, with the scopes its tokens may
   * carry (and all they imply); anything else is `invalid_target`.
   */
  async function resourceServerInfo(
    _ctx: KoaContextWithOIDC,
    identifier: string,
    client: { [key: string]: unknown },
  ): Promise<ResourceServer> {
    const resource = await deps.directory.resource(identifier, String(client['account_id']));
    if (!resource) {
      throw new errors.InvalidTarget('the resource is not known to this server');
    }
    return {
      scope: config.scopeCatalog.expand(scopeList(resource.scope)).join(' '),
      audience: resource.identifier,
      ...(resource.access_token_ttl === null ? {} : { accessTokenTTL: resource.access_token_ttl }),
      accessTokenFormat: resource.access_token_format,
      jwt: { sign: { alg: config.jwtAlg, kid: deps.keys.current[config.jwtAlg] } },
    };
  }

  const configuration: Configuration = {
    adapter: (name: string) => adapterFor(name) as never,
    jwks: deps.keys.jwks as Configuration['jwks'],
    cookies: { keys: deps.cookieKeys },
    routes: ROUTES,
    scopes: [...config.scopes],
    responseTypes: ['code'],
    extraParams: {
      // The console names the tenant whose administrator signs in (interactions/login-service.ts).
      [CONSOLE_ACCOUNT_PARAM]: null,
      // Checked by the provider as usual; then widened by what it implies (requested-scope.ts).
      scope: function widenRequestedScope(ctx: KoaContextWithOIDC) {
        scopes.widen(ctx);
      },
    },
    // The methods the admin API accepts are exactly the ones the provider offers.
    clientAuthMethods: [...AUTH_METHODS],
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      profile: ['preferred_username'],
      email: ['email'],
    },
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        async allowedPolicy(ctx: KoaContextWithOIDC, caller, token) {
          const owner =
            token.clientId === caller.clientId
              ? caller
              : await ctx.oidc.provider.Client.find(token.clientId!);
          return mayIntrospect(caller, owner?.['account_id']);
        },
      },
      revocation: {
        enabled: true,
        // RFC 7009: a client revokes only its own tokens.
        allowedPolicy(_ctx: KoaContextWithOIDC, caller, token) {
          if (token.clientId !== caller.clientId) {
            throw new errors.InvalidRequest(NOT_OWN_TOKEN);
          }
          return true;
        },
      },
      clientCredentials: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: clientCertificate,
        // tls_client_auth: signed by the client CA, within its validity, and one of the client's
        // own unrevoked certificates.
        certificateAuthorized(ctx: KoaContextWithOIDC) {
          const cert = clientCertificate(ctx);
          const own = ctx.oidc.client?.['certificate_thumbprints'];
          return !!cert && clientCa.signed(cert) && Array.isArray(own) && own.includes(thumbprint(cert));
        },
        certificateSubjectMatches(ctx: KoaContextWithOIDC, property: string, expected: string) {
          const cert = clientCertificate(ctx);
          return property === 'tls_client_auth_subject_dn' && !!cert && subjectDn(cert) === expected;
        },
      },
      resourceIndicators: {
        enabled: true,
        // Without resource=, tokens are as before: opaque and for no particular audience.
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        // A refresh without resource= stays for the resource the grant was for.
        useGrantedResource: async () => true,
        getResourceServerInfo: resourceServerInfo as never,
      },
      // Not offered: Tessera binds tokens to certificates (RFC 8705), not to DPoP keys.
      dPoP: { enabled: false },
      userinfo: { enabled: true },
      // OpenID Connect RP-Initiated Logout 1.0, on Tessera's own pages.
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          renderPage(ctx, 'logout', { form, clientName: clientNameOf(ctx) });
        },
        async postLogoutSuccessSource(ctx) {
          renderPage(ctx, 'signed-out', { clientName: clientNameOf(ctx) });
        },
      },
      // OpenID Connect Back-Channel Logout 1.0: clients with a backchannel_logout_uri get a
      // signed logout token when the user's session ends.
      backchannelLogout: { enabled: true },
    },
    enabledJWA: { clientAuthSigningAlgValues: CLIENT_AUTH_SIGNING_ALGS as never },
    // oidc-provider refuses outgoing requests to special-use addresses (SSRF protection). The
    // one kind Tessera makes, back-channel logout, may go to a loopback host on purpose: the
    // admin API accepts http only there (README, "Logout").
    fetch(url, options) {
      if (!LOOPBACK_HOSTS.has(new URL(url).hostname)) return globalThis.fetch(url, options);
      const { dispatcher: _protected, ...direct } = options as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(url, direct);
    },
    extraClientMetadata: {
      properties: [...EXTRA_CLIENT_PROPERTIES],
      // Bounds are enforced when a client is written; here only the type, so that lowering
      // TESSERA_MAX_ACCESS_TOKEN_TTL clamps existing clients' lifetimes instead of breaking them.
      validator(_ctx, key, value) {
        if (key === 'access_token_ttl' && value !== undefined && !Number.isInteger(value)) {
          throw new Error('access_token_ttl must be an integer');
        }
      },
    },
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: ID_TOKEN_TTL,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },
    // RFC 8705 section 5: oidc-provider does not advertise the mTLS endpoints itself.
    discovery: {
      // RFC 8414 section 2: without these, clients assume client_secret_basic only. Public
      // clients may revoke their own tokens but not introspect.
      introspection_endpoint_auth_methods_supported: AUTH_METHODS.filter((method) => method !== 'none'),
      revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
      // RFC 8414 section 2: required wherever the methods above include private_key_jwt.
      introspection_endpoint_auth_signing_alg_values_supported: CLIENT_AUTH_SIGNING_ALGS,
      revocation_endpoint_auth_signing_alg_values_supported: CLIENT_AUTH_SIGNING_ALGS,
      ...(deps.mtlsBaseUrl
        ? {
            mtls_endpoint_aliases: {
              token_endpoint: `${deps.mtlsBaseUrl}${ROUTES.token}`,
              introspection_endpoint: `${deps.mtlsBaseUrl}${ROUTES.introspection}`,
              revocation_endpoint: `${deps.mtlsBaseUrl}${ROUTES.revocation}`,
              userinfo_endpoint: `${deps.mtlsBaseUrl}${ROUTES.userinfo}`,
            },
          }
        : {}),
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: interactionPolicyWithActiveUsers(),
    },
    // Contract: a client with the refresh_token grant gets refresh tokens (no offline_access
    // needed). Rotation (always for public clients) and reuse detection are oidc-provider's.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // README: public clients' refresh tokens rotate on every use (unless sender-constrained,
    // as oidc-provider's default); other clients' once 70 % of their lifetime has passed.
    // The refresh grant calls this between its scope check and its access token, so a
    // narrowed scope is widened here (requested-scope.ts).
    rotateRefreshToken(ctx) {
      scopes.widen(ctx);
      const { RefreshToken: refreshToken, Client: client } = ctx.oidc.entities;
      if (client?.clientAuthMethod === 'none' && !refreshToken?.isSenderConstrained()) return true;
      return (refreshToken?.ttlPercentagePassed() ?? 0) >= 70;
    },
    // Contract 5.1 `require_consent`: without it, the requested scopes are granted without
    // asking; with it, the consent page shows unless this user already granted this client
    // every requested scope (remembered across sign-ins). Otherwise the consent page extends
    // the grant with what is missing.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const client = oidc.client!;
      const consented = oidc.result?.consent?.grantId;
      if (consented) return oidc.provider.Grant.find(consented);
      const userId = oidc.session?.accountId;
      const grantId = oidc.session?.grantIdFor(client.clientId);
      const grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      if (!userId) return grant;
      const allowed = new Set(scopeList(client.scope));
      const requested = scopeList(String(oidc.params?.scope ?? '')).filter(
        (scope) => allowed.has(scope) || scope === 'openid',
      );
      // RFC 8707: what each requested resource server takes of the requested scopes.
      const perResource = Object.entries(oidc.resourceServers ?? {}).map(
        ([identifier, server]) =>
          [identifier, requested.filter((scope) => server.scopes.has(scope))] as const,
      );
      const held = new Set(scopeList(grant?.getOIDCScope()));
      const holdsAll =
        requested.every((scope) => held.has(scope)) &&
        perResource.every(
          ([identifier, wanted]) =>
            scopeList(grant?.getResourceScopeFiltered(identifier, new Set(wanted))).length === wanted.length,
        );
      if (holdsAll) return grant;
      if (client['require_consent'] !== false) {
        const remembered = await deps.consents.granted(userId, client.clientId);
        if (!requested.every((scope) => remembered.has(scope))) return grant;
      }
      const granting = grant ?? new oidc.provider.Grant({ clientId: client.clientId, accountId: userId });
      granting.addOIDCScope(requested.join(' '));
      for (const [identifier, wanted] of perResource) granting.addResourceScope(identifier, wanted.join(' '));
      await granting.save();
      return granting;
    },
    // HTML only where a browser is sent (authorization and its pages); every other endpoint
    // answers RFC 6749 JSON whatever the Accept header prefers (Java's default prefers HTML).
    async renderError(ctx, out) {
      const pages = [ROUTES.authorization, ROUTES.end_session];
      if (pages.some((page) => ctx.path === page || ctx.path.startsWith(`${page}/`))) {
        renderErrorPage(ctx, ctx.status >= 400 ? ctx.status : 400, out.error, out.error_description);
        return;
      }
      ctx.type = 'json';
      ctx.body = out;
    },
    formats: {
      customizers: {
        // RFC 9068: `sub` is the user, else the service user, else the client. The grant a token
        // came from is named so introspection can tell when it was revoked.
        jwt(ctx, token, jwt) {
          const serviceUser = ctx.oidc.client?.['service_user_id'];
          if (token.kind === 'ClientCredentials' && typeof serviceUser === 'string')
            jwt.payload.sub = serviceUser;
          const grantId = (token as { grantId?: unknown }).grantId;
          if (typeof grantId === 'string') jwt.payload.grant_id = grantId;
        },
      },
    },
    // Tokens of a client with a service user carry that user as `sub` (RFC 7662 introspection).
    extraTokenClaims(ctx, token) {
      const serviceUser = ctx.oidc.client?.['service_user_id'];
      if (token.kind === 'ClientCredentials' && typeof serviceUser === 'string') return { sub: serviceUser };
      return undefined;
    },
    async findAccount(_ctx, sub) {
      const user = await clientStore.getUser(sub);
      if (!user || user.disabled) return undefined;
      return {
        accountId: user.id,
        async claims() {
          return {
            sub: user.id,
            preferred_username: user.username,
            ...(user.email ? { email: user.email } : {}),
          };
        },
      };
    },
  };

  const provider = new Provider(config.issuer, configuration);

  installHashedSecretCheck(provider, deps);
  registerClientCredentialsGrant(provider, clientCertificate, scopes, resourceServerInfo);
  return provider;
}
