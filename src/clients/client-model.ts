import { createHash } from 'node:crypto';
import { clientSubjectDn } from '../pki/certificates.js';
import { scopeList, type ScopeCatalog } from '../scopes/scope-catalog.js';
import type { ClientRecord, ClientSecretRecord, ClientStore } from '../stores/client-store.js';

/** RFC 6749's "no redirect" value: kept as a label on clients that never redirect. */
export const OOB_REDIRECT = 'urn:ietf:wg:oauth:2.0:oob';

/** A redirect URI with a private-use scheme (RFC 8252 7.1): neither http(s) nor the oob label. */
export const isPrivateUseUri = (uri: string): boolean => !/^https?:/i.test(uri) && uri !== OOB_REDIRECT;

/** Contract 5.1: without an explicit type, a client redirecting to a private-use scheme is native. */
export const inferApplicationType = (redirectUris: readonly string[]): 'web' | 'native' =>
  redirectUris.some(isPrivateUseUri) ? 'native' : 'web';

/** How a client stored before secrets were a list kept them. */
interface OneSecretLayout {
  secret_hash?: string | null;
  previous_secret_hash?: string | null;
  previous_secret_expires_at?: string | null;
}

/**
 * The secrets of a record in the one-secret layout: the current one, and the previous one of an
 * overlap. Their ids derive from their hashes, so every read names them alike until the first
 * change of the secrets stores them as a list.
 */
function secretsOfOneSecretLayout(record: ClientRecord & OneSecretLayout): ClientSecretRecord[] {
  const entry = (hash: string, expiresAt: string | null): ClientSecretRecord => ({
    id: createHash('sha256').update(hash).digest('base64url').slice(0, 22),
    label: null,
    hint: null,
    hash,
    created_at: record.created_at,
    expires_at: expiresAt,
    last_used_at: null,
  });
  const secrets: ClientSecretRecord[] = [];
  if (record.secret_hash) secrets.push(entry(record.secret_hash, null));
  if (record.previous_secret_hash && record.previous_secret_expires_at) {
    secrets.push(entry(record.previous_secret_hash, record.previous_secret_expires_at));
  }
  return secrets;
}

/**
 * A client as read from the store, with the contract's values for fields that records written
 * by earlier versions lack (the same inference a create makes).
 */
export function withCurrentFields(record: ClientRecord): ClientRecord {
  const stored = record as Partial<ClientRecord> & ClientRecord & OneSecretLayout;
  const { secret_hash: _s, previous_secret_hash: _p, previous_secret_expires_at: _e, ...current } = stored;
  return {
    ...current,
    application_type: stored.application_type ?? inferApplicationType(record.redirect_uris),
    post_logout_redirect_uris: stored.post_logout_redirect_uris ?? [],
    backchannel_logout_uri: stored.backchannel_logout_uri ?? null,
    require_consent: stored.require_consent ?? !record.first_party,
    secrets: stored.secrets ?? secretsOfOneSecretLayout(stored),
    secret_version: stored.secret_version ?? 1,
  };
}

/** The client store with every client it returns brought to the current fields ({@link withCurrentFields}). */
export function withCurrentClientFields(store: ClientStore): ClientStore {
  const current = (record: ClientRecord | null) => record && withCurrentFields(record);
  return {
    ...store,
    getClient: async (clientId) => current(await store.getClient(clientId)),
    listClients: async (accountId, options) => {
      const page = await store.listClients(accountId, options);
      return { ...page, data: page.data.map(withCurrentFields) };
    },
    updateClient: async (clientId, patch) => current(await store.updateClient(clientId, patch)),
    addCertificate: async (clientId, certificate, updatedAt) =>
      current(await store.addCertificate(clientId, certificate, updatedAt)),
    revokeCertificate: async (clientId, serial, updatedAt) =>
      current(await store.revokeCertificate(clientId, serial, updatedAt)),
    replaceClientSecrets: async (clientId, version, secrets, updatedAt) =>
      current(await store.replaceClientSecrets(clientId, version, secrets, updatedAt)),
  };
}

/** Whether a secret still works at `now` (ms): it has no expiry, or it has not been reached. */
export const secretWorks = (secret: ClientSecretRecord, now: number): boolean =>
  secret.expires_at === null || Date.parse(secret.expires_at) > now;

/** A secret as oidc-provider's client carries it, for the check in provider/hashed-secrets.ts. */
export interface ProviderSecret {
  id: string;
  hint: string | null;
  hash: string;
  /** Epoch ms; null: no expiry. */
  expires: number | null;
}

/** Auth methods that present a shared secret, so the client has hashed secrets. */
export const SECRET_AUTH_METHODS: ReadonlySet<string> = new Set([
  'client_secret_basic',
  'client_secret_post',
]);

/** Client fields oidc-provider does not know; declared in `extraClientMetadata.properties`. */
export const EXTRA_CLIENT_PROPERTIES = [
  'account_id',
  'access_token_ttl',
  'first_party',
  'service_user_id',
  'client_secrets',
  'certificate_thumbprints',
  'require_consent',
] as const;

/**
 * What oidc-provider requires as `client_secret` of a secret-based client. Tessera's check
 * ignores it and compares with `client_secrets` (argon2id hashes), so it matches no secret.
 */
const UNUSED_CLIENT_SECRET = 'see client_secrets';

/** The metadata oidc-provider works from. Its secrets are argon2id hashes (`client_secrets`). */
export type ProviderClientMetadata = Record<string, unknown> & { client_id: string };

/**
 * Maps a stored client to the metadata oidc-provider sees, or undefined when the client must
 * not authenticate at all (disabled). Only what the protocol needs crosses over. The scope is
 * the closure of the allowed scopes, so a client may ask for any scope its scopes imply.
 */
export function toProviderMetadata(
  record: ClientRecord,
  scopes: Pick<ScopeCatalog, 'expand'>,
): ProviderClientMetadata | undefined {
  if (record.disabled) return undefined;
  const metadata: ProviderClientMetadata = {
    client_id: record.client_id,
    client_name: record.client_name,
    application_type: record.application_type,
    grant_types: record.grant_types,
    response_types: record.grant_types.includes('authorization_code') ? ['code'] : [],
    // The oob label names no place to send anyone; the protocol never sees it.
    redirect_uris: record.redirect_uris.filter((uri) => uri !== OOB_REDIRECT),
    token_endpoint_auth_method: record.token_endpoint_auth_method,
    post_logout_redirect_uris: record.post_logout_redirect_uris,
    account_id: record.account_id,
    access_token_ttl: record.access_token_ttl,
    first_party: record.first_party,
    require_consent: record.require_consent,
    service_user_id: record.service_user_id,
  };
  if (SECRET_AUTH_METHODS.has(record.token_endpoint_auth_method)) {
    metadata.client_secret = UNUSED_CLIENT_SECRET;
    // Whether a secret has expired is decided per check (provider/hashed-secrets.ts), not here.
    metadata.client_secrets = record.secrets.map((secret): ProviderSecret => ({
      id: secret.id,
      hint: secret.hint,
      hash: secret.hash,
      expires: secret.expires_at === null ? null : Date.parse(secret.expires_at),
    }));
  }
  // oidc-provider refuses an empty scope string; no scope means "no scopes allowed" here.
  const allowed = scopes.expand(scopeList(record.scope));
  if (allowed.length) metadata.scope = allowed.join(' ');
  if (record.jwks) metadata.jwks = record.jwks;
  // OpenID Connect Back-Channel Logout 1.0: the logout token names the session (`sid`).
  if (record.backchannel_logout_uri) {
    metadata.backchannel_logout_uri = record.backchannel_logout_uri;
    metadata.backchannel_logout_session_required = true;
  }
  if (record.tls_client_certificate_bound_access_tokens) {
    metadata.tls_client_certificate_bound_access_tokens = true;
  }
  // tls_client_auth: the certificate must be one Tessera issued to this client and not revoked
  // (its CA signature and validity are checked per request); the subject names the client.
  if (record.token_endpoint_auth_method === 'tls_client_auth') {
    metadata.tls_client_auth_subject_dn = clientSubjectDn(record.client_id);
    metadata.certificate_thumbprints = record.certificates
      .filter((cert) => !cert.revoked)
      .map((cert) => cert.sha256_thumbprint);
  }
  return metadata;
}
