import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { generateSecret, hashSecret } from '../crypto/secrets.js';
import type { ClientRecord, ClientStore } from '../stores/client-store.js';
import { SECRET_AUTH_METHODS } from './client-model.js';

/** What it takes to register a client; everything else gets the contract's defaults. */
export interface NewClient {
  client_id?: string;
  account_id: string;
  client_name: string;
  description?: string;
  grant_types: string[];
  redirect_uris?: string[];
  scope: string;
  token_endpoint_auth_method: string;
  access_token_ttl?: number;
  first_party?: boolean;
  service_user_id?: string | null;
  /** Use this secret instead of generating one (bootstrap from `TESSERA_ADMIN_CLIENT_SECRET`). */
  secret?: string;
}

/** The client view of contract 5.1: an allow-list, so no secret, hash or key can leave. */
export function clientView(record: ClientRecord) {
  return {
    client_id: record.client_id,
    client_name: record.client_name,
    description: record.description,
    account_id: record.account_id,
    client_type: record.client_type,
    grant_types: [...record.grant_types],
    redirect_uris: [...record.redirect_uris],
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
    disabled: record.disabled,
    created_at: record.created_at,
    updated_at: record.updated_at,
    last_used_at: record.last_used_at,
  };
}

/** A fresh client id: 128 random bits, URL-safe. */
export const newClientId = (): string => randomBytes(16).toString('base64url');

export function createClientService(deps: { config: Config; clientStore: ClientStore }) {
  return {
    /**
     * Stores a new client and returns it with its plaintext secret (for secret-based methods),
     * which exists only in this return value: the store keeps the argon2id hash.
     */
    async create(input: NewClient): Promise<{ client: ClientRecord; secret: string | null }> {
      const usesSecret = SECRET_AUTH_METHODS.has(input.token_endpoint_auth_method);
      const secret = usesSecret ? (input.secret ?? generateSecret()) : null;
      const now = new Date().toISOString();
      const client: ClientRecord = {
        client_id: input.client_id ?? newClientId(),
        account_id: input.account_id,
        client_name: input.client_name,
        description: input.description ?? '',
        client_type: input.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
        grant_types: input.grant_types,
        redirect_uris: input.redirect_uris ?? [],
        scope: input.scope,
        token_endpoint_auth_method: input.token_endpoint_auth_method,
        tls_client_certificate_bound_access_tokens: false,
        access_token_ttl: input.access_token_ttl ?? deps.config.accessTokenTtl,
        service_user_id: input.service_user_id ?? null,
        certificates: [],
        jwks: null,
        first_party: input.first_party ?? false,
        disabled: false,
        secret_hash: secret === null ? null : await hashSecret(secret),
        secret_version: 1,
        created_at: now,
        updated_at: now,
        last_used_at: null,
      };
      await deps.clientStore.createClient(client);
      return { client, secret };
    },
  };
}

export type ClientService = ReturnType<typeof createClientService>;
