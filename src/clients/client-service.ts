import { randomBytes, randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Config } from '../config.js';
import { generateSecret, hashSecret, verifySecret } from '../crypto/secrets.js';
import { AppError, toAppError, invalidRequest, notFound } from '../errors.js';
import { definedOnly } from '../objects.js';
import type { ClientCa, IssuedCertificate } from '../pki/pki.js';
import type { ClientDirectory } from './client-directory.js';
import type {
  CertificateRecord,
  ClientListOptions,
  ClientRecord,
  ClientSecretRecord,
  ClientStore,
  ListOptions,
  Page,
} from '../stores/client-store.js';
import type { TokenStore } from '../stores/token-store.js';
import {
  inferApplicationType,
  OOB_REDIRECT,
  SECRET_AUTH_METHODS,
  secretWorks,
  toProviderMetadata,
} from './client-model.js';
import type { CreateClientInput, PatchClientInput } from './client-schema.js';
import { redirectUriProblem } from './redirect-uris.js';
import { hourOf, type UsageTracker } from './usage-tracker.js';

/** What it takes to store a client; everything else gets the contract's defaults. */
export interface NewClient {
  client_id?: string;
  account_id: string;
  client_name: string;
  description?: string;
  grant_types: string[];
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string | null;
  scope: string;
  token_endpoint_auth_method: string;
  access_token_ttl?: number;
  first_party?: boolean;
  require_consent?: boolean;
  application_type?: 'web' | 'native';
  service_user_id?: string | null;
  tls_client_certificate_bound_access_tokens?: boolean;
  jwks?: ClientRecord['jwks'];
  /** Use this secret instead of generating one (bootstrap from `TESSERA_ADMIN_CLIENT_SECRET`). */
  secret?: string;
}

/** How many secrets of a client may work at once. */
export const MAX_SECRETS = 5;

/** The client's secrets that work at `now`, newest first. */
export const workingSecrets = (record: ClientRecord, now = Date.now()): ClientSecretRecord[] =>
  record.secrets
    .filter((secret) => secretWorks(secret, now))
    .sort((a, b) => b.created_at.localeCompare(a.created_at));

/**
 * The view's `previous_secret_expires_at`: the latest expiry among the working secrets other
 * than the newest, or null when there are none or none of them expires.
 */
export function previousSecretExpiry(record: ClientRecord, now = Date.now()): string | null {
  const expiries = workingSecrets(record, now)
    .slice(1)
    .flatMap((secret) => (secret.expires_at === null ? [] : [secret.expires_at]));
  return expiries.sort().at(-1) ?? null;
}

/** A secret as `GET /clients/{id}/secrets` lists it: never the secret or its hash. */
export const secretView = (secret: ClientSecretRecord) => ({
  id: secret.id,
  label: secret.label,
  hint: secret.hint,
  created_at: secret.created_at,
  expires_at: secret.expires_at,
  last_used_at: secret.last_used_at,
});

export type SecretView = ReturnType<typeof secretView>;

/** The client view of contract 5.1: an allow-list, so no secret, hash or key can leave. */
export function clientView(record: ClientRecord, now = Date.now()) {
  return {
    client_id: record.client_id,
    client_name: record.client_name,
    description: record.description,
    account_id: record.account_id,
    client_type: record.client_type,
    application_type: record.application_type,
    grant_types: [...record.grant_types],
    redirect_uris: [...record.redirect_uris],
    post_logout_redirect_uris: [...record.post_logout_redirect_uris],
    backchannel_logout_uri: record.backchannel_logout_uri,
    scope: record.scope,
    token_endpoint_auth_method: record.token_endpoint_auth_method,
    tls_client_certificate_bound_access_tokens: record.tls_client_certificate_bound_access_tokens,
    access_token_ttl: record.access_token_ttl,
    service_user_id: record.service_user_id,
    certificates: record.certificates.map((c) => ({
      serial: c.serial,
      sha256_thumbprint: c.sha256_thumbprint,
      not_after: c.not_after,
      revoked: c.revoked,
    })),
    first_party: record.first_party,
    require_consent: record.require_consent,
    previous_secret_expires_at: previousSecretExpiry(record, now),
    disabled: record.disabled,
    created_at: record.created_at,
    updated_at: record.updated_at,
    last_used_at: record.last_used_at,
  };
}

export type ClientView = ReturnType<typeof clientView>;

/** How a client listing may be narrowed. */
export type ClientFilters = Pick<ClientListOptions, 'q' | 'grantType' | 'disabled'>;

/** A fresh client id: 128 random bits, URL-safe. */
export const newClientId = (): string => randomBytes(16).toString('base64url');

const metadataError = (description: string, field?: string) =>
  new AppError(400, 'invalid_client_metadata', description, field ? { field } : undefined);
const redirectUriError = (description: string) =>
  new AppError(400, 'invalid_redirect_uri', description, { field: 'redirect_uris' });

/** The fields a PATCH may change, as recorded in the audit log (names only, never values of secrets). */
const AUDITED_FIELDS = [
  'client_name',
  'description',
  'grant_types',
  'redirect_uris',
  'post_logout_redirect_uris',
  'backchannel_logout_uri',
  'scope',
  'token_endpoint_auth_method',
  'access_token_ttl',
  'service_user_id',
  'first_party',
  'require_consent',
  'application_type',
  'tls_client_certificate_bound_access_tokens',
  'jwks',
  'disabled',
] as const;

/** How many certificates that have not expired a client may hold, revoked ones included. */
export const MAX_CERTIFICATES = 10;

/** Clients that present Tessera-issued certificates: to authenticate, or to bind their tokens. */
const usesIssuedCertificates = (client: ClientRecord): boolean =>
  client.token_endpoint_auth_method === 'tls_client_auth' ||
  client.tls_client_certificate_bound_access_tokens;

const certificateRecord = (issued: IssuedCertificate): CertificateRecord => ({
  serial: issued.serial,
  sha256_thumbprint: issued.sha256_thumbprint,
  not_after: issued.not_after,
  revoked: false,
});

export interface ClientServiceDeps {
  config: Config;
  clientCa: ClientCa;
  /** Runs a write that changes how a client of the account authenticates, on every node at once. */
  change: ClientDirectory['change'];
  clientStore: ClientStore;
  tokenStore: TokenStore;
  audit: AuditService;
  /** oidc-provider's own metadata check (`provider.Client.validate`), so both sides agree. */
  validateMetadata: (metadata: Record<string, unknown>) => Promise<void>;
  /** This process's counts of client use not yet written to the store. */
  usage: Pick<UsageTracker, 'unwritten' | 'now'>;
  /** The clock that secret overlaps are measured by (milliseconds). */
  now?: () => number;
}

// Creation times strictly increase within a process, so "newest first" is the order clients
// were made in, also for a provisioning file that creates several within a millisecond.
let lastCreated = 0;
const creationTime = (): string => {
  lastCreated = Math.max(Date.now(), lastCreated + 1);
  return new Date(lastCreated).toISOString();
};

export function createClientService(deps: ClientServiceDeps) {
  const { config, clientStore, tokenStore, audit, clientCa, change } = deps;
  const now = deps.now ?? Date.now;
  const view = (record: ClientRecord) => clientView(record, now());

  /** A new secret's record; its hint is its first 4 characters, shown to tell secrets apart. */
  const secretRecord = async (
    secret: string,
    fields: { label?: string | null; expiresAt?: string | null } = {},
  ): Promise<ClientSecretRecord> => ({
    id: randomUUID(),
    label: fields.label ?? null,
    hint: secret.slice(0, 4),
    hash: await hashSecret(secret),
    created_at: new Date(now()).toISOString(),
    expires_at: fields.expiresAt ?? null,
    last_used_at: null,
  });

  /** A client that authenticates with secrets, of the caller's account. */
  async function secretClient(principal: Principal, clientId: string): Promise<ClientRecord> {
    const current = await ownClient(principal, clientId);
    if (!SECRET_AUTH_METHODS.has(current.token_endpoint_auth_method)) {
      throw invalidRequest(`a ${current.token_endpoint_auth_method} client has no secrets`);
    }
    return current;
  }

  /**
   * Changes a client's secrets: `next` gets the working ones (newest first) and returns the new
   * list, or throws to change nothing. Compare-and-set on `secret_version`, retried, so racing
   * changes on any node all apply; the account's mark moves around it, so every node's next
   * request sees the new list. Expired secrets are dropped on the way.
   */
  async function changeSecrets(
    principal: Principal,
    clientId: string,
    next: (working: ClientSecretRecord[]) => ClientSecretRecord[],
  ): Promise<ClientRecord> {
    return change(principal.accountId, async () => {
      for (;;) {
        const current = await ownClient(principal, clientId);
        const secrets = next(workingSecrets(current, now()));
        const updatedAt = new Date(now()).toISOString();
        const stored = await clientStore.replaceClientSecrets(
          clientId,
          current.secret_version,
          secrets,
          updatedAt,
        );
        if (stored) return stored;
      }
    });
  }

  async function auditCertificate(principal: Principal, clientId: string, issued: IssuedCertificate) {
    await audit.record(
      principal.accountId,
      principal.actor,
      'client.certificate.issue',
      `client:${clientId}`,
      {
        serial: issued.serial,
        sha256_thumbprint: issued.sha256_thumbprint,
        not_after: issued.not_after,
      },
    );
  }

  /** A client of the caller's account, or 404 — another account's client does not exist for it. */
  async function ownClient(principal: Principal, clientId: string): Promise<ClientRecord> {
    const record = await clientStore.getClient(clientId);
    if (!record || record.account_id !== principal.accountId) throw notFound('no such client');
    return record;
  }

  /**
   * Checks a complete candidate record against the contract's rules, then against
   * oidc-provider's, so nothing is stored that the protocol would refuse.
   */
  async function validate(candidate: ClientRecord): Promise<void> {
    const ttl = candidate.access_token_ttl;
    if (ttl < 60 || ttl > config.maxAccessTokenTtl) {
      throw metadataError(
        `access_token_ttl must be between 60 and ${config.maxAccessTokenTtl}`,
        'access_token_ttl',
      );
    }
    const known = new Set(config.scopeCatalog.names);
    for (const scope of candidate.scope.split(' ').filter(Boolean)) {
      if (!known.has(scope)) throw metadataError(`scope "${scope}" is not offered by this server`, 'scope');
      if (scope === 'accounts:admin' && candidate.account_id !== 'default') {
        throw metadataError('scope "accounts:admin" is reserved to clients of account default', 'scope');
      }
    }
    const grants = new Set(candidate.grant_types);
    const isPublic = candidate.token_endpoint_auth_method === 'none';
    if (isPublic && grants.has('client_credentials')) {
      throw metadataError(
        'client_credentials needs a confidential client (token_endpoint_auth_method other than none)',
        'grant_types',
      );
    }
    if (grants.has('refresh_token') && !grants.has('authorization_code')) {
      throw metadataError('refresh_token is only issued together with authorization_code', 'grant_types');
    }
    if (grants.has('authorization_code') && candidate.redirect_uris.length === 0) {
      throw redirectUriError('authorization_code needs at least one redirect URI');
    }
    for (const uri of candidate.redirect_uris) {
      if (uri === OOB_REDIRECT) {
        // Contract 5.1: a label for "no redirect" only; RFC 8252 8.1 retired it for native apps.
        if (grants.has('authorization_code')) {
          throw redirectUriError(
            `${OOB_REDIRECT} cannot be used with authorization_code; register a loopback redirect such as http://127.0.0.1:8400/callback instead`,
          );
        }
        continue;
      }
      const problem = redirectUriProblem(uri, candidate.application_type);
      if (problem) throw redirectUriError(problem);
    }
    // OpenID Connect RP-Initiated Logout 1.0: the same rules as redirect URIs.
    for (const uri of candidate.post_logout_redirect_uris) {
      const problem = redirectUriProblem(uri, candidate.application_type);
      if (problem) throw metadataError(`post_logout_redirect_uris: ${problem}`, 'post_logout_redirect_uris');
    }
    if (candidate.backchannel_logout_uri !== null) {
      // Back-Channel Logout 1.0 section 2.2: a URL Tessera POSTs to, so https or loopback http.
      const problem = redirectUriProblem(candidate.backchannel_logout_uri, 'web');
      if (problem) throw metadataError(`backchannel_logout_uri: ${problem}`, 'backchannel_logout_uri');
    }
    if (
      ['private_key_jwt', 'self_signed_tls_client_auth'].includes(candidate.token_endpoint_auth_method) &&
      !candidate.jwks
    ) {
      throw metadataError(`${candidate.token_endpoint_auth_method} needs jwks`, 'token_endpoint_auth_method');
    }
    if (candidate.service_user_id !== null) {
      if (!grants.has('client_credentials'))
        throw metadataError('service_user_id is for client_credentials clients', 'service_user_id');
      const user = await clientStore.getUser(candidate.service_user_id);
      if (!user || user.account_id !== candidate.account_id)
        throw metadataError('service_user_id names no user of this account', 'service_user_id');
    }
    const metadata = toProviderMetadata({ ...candidate, disabled: false }, config.scopeCatalog);
    if (metadata) {
      if (SECRET_AUTH_METHODS.has(candidate.token_endpoint_auth_method)) {
        metadata.client_secret ??= 'placeholder-for-validation';
      }
      try {
        await deps.validateMetadata(metadata);
      } catch (error) {
        // oidc-provider's own check of the metadata, in the README's error shape.
        const refused = toAppError(error);
        if (refused.code === 'invalid_redirect_uri') throw redirectUriError(refused.message);
        throw refused;
      }
    }
  }

  async function buildRecord(input: NewClient): Promise<{ client: ClientRecord; secret: string | null }> {
    const usesSecret = SECRET_AUTH_METHODS.has(input.token_endpoint_auth_method);
    const secret = usesSecret ? (input.secret ?? generateSecret()) : null;
    const createdAt = creationTime();
    const redirectUris = input.redirect_uris ?? [];
    const firstParty = input.first_party ?? false;
    const client: ClientRecord = {
      client_id: input.client_id ?? newClientId(),
      account_id: input.account_id,
      client_name: input.client_name,
      description: input.description ?? '',
      client_type: input.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
      application_type: input.application_type ?? inferApplicationType(redirectUris),
      grant_types: input.grant_types,
      redirect_uris: redirectUris,
      post_logout_redirect_uris: input.post_logout_redirect_uris ?? [],
      backchannel_logout_uri: input.backchannel_logout_uri ?? null,
      scope: input.scope,
      token_endpoint_auth_method: input.token_endpoint_auth_method,
      tls_client_certificate_bound_access_tokens: input.tls_client_certificate_bound_access_tokens ?? false,
      access_token_ttl: input.access_token_ttl ?? config.accessTokenTtl,
      service_user_id: input.service_user_id ?? null,
      certificates: [],
      jwks: input.jwks ?? null,
      first_party: firstParty,
      require_consent: input.require_consent ?? !firstParty,
      disabled: false,
      secrets: [],
      secret_version: 1,
      created_at: createdAt,
      updated_at: createdAt,
      last_used_at: null,
    };
    return { client, secret };
  }

  /** The record a create would store (not yet checked), with its secret when it has one. */
  async function newCandidate(
    accountId: string,
    input: CreateClientInput,
    options: { clientId?: string | undefined; secret?: string | undefined } = {},
  ) {
    const method = input.token_endpoint_auth_method ?? 'client_secret_basic';
    const { issue_certificate: _certificate, ...fields } = input;
    return buildRecord({
      ...fields,
      ...definedOnly({ client_id: options.clientId, secret: options.secret }),
      account_id: accountId,
      token_endpoint_auth_method: method,
      grant_types: input.grant_types ?? (method === 'none' ? ['authorization_code'] : ['client_credentials']),
      scope: input.scope ?? '',
    });
  }

  /** The record a change would store, checked; the auth method never changes. */
  async function changedCandidate(current: ClientRecord, patch: PatchClientInput): Promise<ClientRecord> {
    if (
      patch.token_endpoint_auth_method !== undefined &&
      patch.token_endpoint_auth_method !== current.token_endpoint_auth_method
    ) {
      throw metadataError(
        'token_endpoint_auth_method cannot change; register a new client instead',
        'token_endpoint_auth_method',
      );
    }
    const candidate: ClientRecord = {
      ...current,
      ...definedOnly(patch),
      updated_at: new Date().toISOString(),
    };
    await validate(candidate);
    return candidate;
  }

  /** The fields of `patch` that would change `current`. */
  const changedFields = (current: ClientRecord, patch: PatchClientInput) =>
    AUDITED_FIELDS.filter(
      (field) =>
        patch[field] !== undefined && JSON.stringify(patch[field]) !== JSON.stringify(current[field]),
    );

  return {
    /**
     * Checks a client as `register` would, without storing anything (the provisioning file is
     * checked whole before any of it is applied).
     */
    async checkNew(accountId: string, input: CreateClientInput, clientId: string): Promise<void> {
      await validate((await newCandidate(accountId, input, { clientId })).client);
    },

    /** Checks a change as `update` would, without storing anything. */
    async checkChange(current: ClientRecord, patch: PatchClientInput): Promise<void> {
      if (changedFields(current, patch).length > 0) await changedCandidate(current, patch);
    },

    /** The fields of `patch` that differ from the stored client. */
    changedFields,

    /**
     * Stores a new client and returns it with its plaintext secret (for secret-based methods),
     * which exists only in this return value: the store keeps the argon2id hash. No contract
     * checks: this is for the bootstrap and for tests that set up state directly.
     */
    async create(input: NewClient): Promise<{ client: ClientRecord; secret: string | null }> {
      const { client, secret } = await buildRecord(input);
      if (secret !== null) client.secrets = [await secretRecord(secret)];
      await clientStore.createClient(client);
      return { client, secret };
    },

    /**
     * `POST /clients`: validated, capped per account, audited; the secret is returned once. The
     * provisioning file chooses the client id and may bring the secret.
     */
    async register(
      principal: Principal,
      input: CreateClientInput,
      options: { clientId?: string; secret?: string } = {},
    ): Promise<{ client: ClientRecord; secret: string | null; certificate: IssuedCertificate | null }> {
      const account = await clientStore.getAccount(principal.accountId);
      if (!account) throw notFound('no such account');
      const cap = account.max_clients ?? config.maxClientsPerAccount;
      const overCap = () =>
        new AppError(409, 'limit_exceeded', `the account may hold at most ${cap} clients`);
      if ((await clientStore.countClients(principal.accountId)) >= cap) throw overCap();
      const { client, secret } = await newCandidate(principal.accountId, input, options);
      await validate(client);
      if (input.issue_certificate && !usesIssuedCertificates(client)) {
        throw metadataError(
          'issue_certificate is for tls_client_auth clients and clients with certificate-bound tokens',
        );
      }
      const certificate = input.issue_certificate ? await clientCa.issue(client.client_id) : null;
      if (certificate) client.certificates = [certificateRecord(certificate)];
      if (secret !== null) client.secrets = [await secretRecord(secret)];
      await clientStore.createClient(client);
      // Creates racing on several nodes may all pass the check above; recounting after the
      // insert and withdrawing our own client keeps the cap without a transaction.
      if ((await clientStore.countClients(principal.accountId)) > cap) {
        await clientStore.deleteClient(client.client_id);
        throw overCap();
      }
      await audit.record(
        principal.accountId,
        principal.actor,
        'client.create',
        `client:${client.client_id}`,
        {
          client_name: client.client_name,
          token_endpoint_auth_method: client.token_endpoint_auth_method,
          scope: client.scope,
        },
      );
      if (certificate) await auditCertificate(principal, client.client_id, certificate);
      return { client, secret, certificate };
    },

    async list(principal: Principal, options: ListOptions & ClientFilters): Promise<Page<ClientView>> {
      const page = await clientStore.listClients(principal.accountId, options);
      return { data: page.data.map(view), next_cursor: page.next_cursor };
    },

    async get(principal: Principal, clientId: string): Promise<ClientView> {
      return view(await ownClient(principal, clientId));
    },

    /** `PATCH /clients/{id}`: the merged record must pass every check a new one would. */
    async update(principal: Principal, clientId: string, patch: PatchClientInput): Promise<ClientView> {
      const current = await ownClient(principal, clientId);
      const changed = changedFields(current, patch);
      if (changed.length === 0) return view(current);
      const candidate = await changedCandidate(current, patch);
      const updated = await change(principal.accountId, () =>
        clientStore.updateClient(clientId, {
          ...definedOnly(patch),
          updated_at: candidate.updated_at,
        }),
      );
      if (!updated) throw notFound('no such client');
      const action =
        changed.length === 1 && changed[0] === 'disabled'
          ? updated.disabled
            ? 'client.disable'
            : 'client.enable'
          : 'client.update';
      await audit.record(principal.accountId, principal.actor, action, `client:${clientId}`, {
        fields: [...changed],
      });
      return view(updated);
    },

    /**
     * `POST /clients/{id}/secret`: a new secret, and every other one ends at once in the shared
     * store, so it fails on every node from the next request on; with `previousSecretExpiresIn`,
     * they end that many seconds from now (or sooner, when they expire sooner). Never refused by
     * the limit on secrets, since it ends the others. Tokens already issued live on, unless
     * `revokeTokens` (a leaked secret) revokes every token, code and grant of the client too.
     */
    async rotateSecret(
      principal: Principal,
      clientId: string,
      options: { previousSecretExpiresIn?: number | undefined; secret?: string; revokeTokens?: boolean } = {},
    ): Promise<string> {
      await secretClient(principal, clientId);
      const secret = options.secret ?? generateSecret();
      const added = await secretRecord(secret);
      const overlap = options.previousSecretExpiresIn;
      const ends = overlap === undefined ? null : new Date(now() + overlap * 1000).toISOString();
      const updated = await changeSecrets(principal, clientId, (working) => [
        added,
        ...(ends === null
          ? []
          : working.map((other) => ({
              ...other,
              expires_at: other.expires_at !== null && other.expires_at < ends ? other.expires_at : ends,
            }))),
      ]);
      if (options.revokeTokens) await tokenStore.revokeByClientId(clientId);
      await audit.record(principal.accountId, principal.actor, 'client.secret.rotate', `client:${clientId}`, {
        secret_id: added.id,
        secret_version: updated.secret_version,
        ...(ends === null ? {} : { previous_secret_expires_at: previousSecretExpiry(updated, now()) }),
        ...(options.revokeTokens ? { revoke_tokens: true } : {}),
      });
      return secret;
    },

    /**
     * `DELETE /clients/{id}/secret/previous`: the secrets of an overlap (every working secret
     * but the newest that has an expiry) fail from the next request on, on every node.
     */
    async endSecretOverlap(principal: Principal, clientId: string): Promise<void> {
      const current = await ownClient(principal, clientId);
      const ending = previousSecretExpiry(current, now());
      if (ending === null) return;
      let ended: string[] = [];
      await changeSecrets(principal, clientId, (working) => {
        ended = working
          .slice(1)
          .filter((secret) => secret.expires_at !== null)
          .map((secret) => secret.id);
        return working.filter((secret) => !ended.includes(secret.id));
      });
      await audit.record(
        principal.accountId,
        principal.actor,
        'client.secret.previous.revoke',
        `client:${clientId}`,
        { previous_secret_expires_at: ending, secret_ids: ended },
      );
    },

    /** `GET /clients/{id}/secrets`: the working secrets, newest first; never a secret or hash. */
    async listSecrets(principal: Principal, clientId: string): Promise<{ data: SecretView[] }> {
      const current = await secretClient(principal, clientId);
      return { data: workingSecrets(current, now()).map(secretView) };
    },

    /**
     * `POST /clients/{id}/secrets`: one more secret, returned this once; the others keep
     * working. At most {@link MAX_SECRETS} work at once (checked in the compare-and-set, so
     * racing adds cannot pass it).
     */
    async addSecret(
      principal: Principal,
      clientId: string,
      options: { label?: string | undefined; expiresIn?: number | undefined } = {},
    ): Promise<{ secret: SecretView; client_secret: string }> {
      await secretClient(principal, clientId);
      const secret = generateSecret();
      const expiresAt =
        options.expiresIn === undefined ? null : new Date(now() + options.expiresIn * 1000).toISOString();
      const added = await secretRecord(secret, { label: options.label ?? null, expiresAt });
      await changeSecrets(principal, clientId, (working) => {
        if (working.length >= MAX_SECRETS) {
          throw new AppError(
            409,
            'limit_exceeded',
            `a client holds at most ${MAX_SECRETS} working secrets; delete one first`,
          );
        }
        return [added, ...working];
      });
      await audit.record(principal.accountId, principal.actor, 'client.secret.add', `client:${clientId}`, {
        secret_id: added.id,
        label: added.label,
        expires_at: added.expires_at,
      });
      return { secret: secretView(added), client_secret: secret };
    },

    /**
     * `DELETE /clients/{id}/secrets/{secret_id}`: that secret fails from the next request on, on
     * every node; the others keep working. With `revokeTokens`, every token, code and grant of
     * the client is revoked too.
     */
    async deleteSecret(
      principal: Principal,
      clientId: string,
      secretId: string,
      options: { revokeTokens?: boolean } = {},
    ): Promise<void> {
      await secretClient(principal, clientId);
      let label: string | null = null;
      await changeSecrets(principal, clientId, (working) => {
        const doomed = working.find((secret) => secret.id === secretId);
        if (!doomed) throw notFound('no such secret');
        label = doomed.label;
        return working.filter((secret) => secret !== doomed);
      });
      if (options.revokeTokens) await tokenStore.revokeByClientId(clientId);
      await audit.record(principal.accountId, principal.actor, 'client.secret.delete', `client:${clientId}`, {
        secret_id: secretId,
        label,
        ...(options.revokeTokens ? { revoke_tokens: true } : {}),
      });
    },

    /** Whether `secret` is one of the client's working secrets (the provisioning file's check). */
    async holdsSecret(client: ClientRecord, secret: string): Promise<boolean> {
      for (const stored of workingSecrets(client, now())) {
        if (await verifySecret(stored.hash, secret)) return true;
      }
      return false;
    },

    /**
     * `POST /clients/{id}/certificate`: a new key pair and certificate from the client CA. Earlier
     * certificates stay valid until they expire or are revoked, so renewal overlaps. Expired
     * entries are dropped, and the oldest revoked ones when the client is at the cap.
     */
    async issueCertificate(principal: Principal, clientId: string): Promise<IssuedCertificate> {
      const current = await ownClient(principal, clientId);
      if (!usesIssuedCertificates(current)) {
        throw invalidRequest(
          `a ${current.token_endpoint_auth_method} client without certificate-bound tokens does not use Tessera-issued certificates`,
        );
      }
      const now = new Date().toISOString();
      const expired = current.certificates.filter((cert) => cert.not_after <= now);
      const held = current.certificates.filter((cert) => cert.not_after > now);
      const revoked = held.filter((cert) => cert.revoked);
      const makingRoom = revoked.slice(0, Math.max(0, held.length - MAX_CERTIFICATES + 1));
      if (held.length - makingRoom.length >= MAX_CERTIFICATES) {
        throw new AppError(
          409,
          'limit_exceeded',
          `a client holds at most ${MAX_CERTIFICATES} unexpired certificates; revoke one first`,
        );
      }
      const dropped = [...expired, ...makingRoom].map((cert) => cert.serial);
      if (dropped.length) await clientStore.removeCertificates(clientId, dropped);
      const issued = await clientCa.issue(clientId);
      const added = await change(principal.accountId, () =>
        clientStore.addCertificate(clientId, certificateRecord(issued), now),
      );
      if (!added) {
        throw notFound('no such client');
      }
      await auditCertificate(principal, clientId, issued);
      return issued;
    },

    /** `DELETE /clients/{id}/certificate/{serial}`: from now on that certificate authenticates nothing. */
    async revokeCertificate(principal: Principal, clientId: string, serial: string): Promise<void> {
      const current = await ownClient(principal, clientId);
      const cert = current.certificates.find((c) => c.serial === serial.toLowerCase());
      if (!cert) throw notFound('no such certificate');
      if (cert.revoked) return;
      const revoked = await change(principal.accountId, () =>
        clientStore.revokeCertificate(clientId, cert.serial, new Date().toISOString()),
      );
      if (!revoked) {
        throw notFound('no such certificate');
      }
      await audit.record(
        principal.accountId,
        principal.actor,
        'client.certificate.revoke',
        `client:${clientId}`,
        {
          serial: cert.serial,
        },
      );
    },

    /**
     * `GET /clients/{id}/usage`: tokens issued and failed authentications per clock hour, the
     * last `hours` of them, oldest first, the current hour last. The store holds what every node
     * has written; this node's counts not yet written are added.
     */
    async usage(principal: Principal, clientId: string, hours: number) {
      await ownClient(principal, clientId);
      const current = Date.parse(hourOf(deps.usage.now()));
      const starts = Array.from({ length: hours }, (_, i) =>
        new Date(current - (hours - 1 - i) * 3_600_000).toISOString(),
      );
      const byHour = new Map(starts.map((start) => [start, { start, tokens_issued: 0, auth_failures: 0 }]));
      for (const count of [
        ...(await clientStore.listUsage(clientId, starts[0]!)),
        ...deps.usage.unwritten(clientId),
      ]) {
        const entry = byHour.get(count.hour);
        if (!entry) continue;
        entry.tokens_issued += count.tokens_issued;
        entry.auth_failures += count.auth_failures;
      }
      return { hours: [...byHour.values()] };
    },

    /** The client CA's certificate (PEM): public. */
    caCertificate(): string {
      return clientCa.certPem;
    },

    /** `DELETE /clients/{id}`: the client is gone, then every token, code and grant it holds. */
    async remove(principal: Principal, clientId: string): Promise<void> {
      const current = await ownClient(principal, clientId);
      if (!(await change(principal.accountId, () => clientStore.deleteClient(clientId)))) {
        throw notFound('no such client');
      }
      await tokenStore.revokeByClientId(clientId);
      await audit.record(principal.accountId, principal.actor, 'client.delete', `client:${clientId}`, {
        client_name: current.client_name,
      });
    },
  };
}

export type ClientService = ReturnType<typeof createClientService>;
