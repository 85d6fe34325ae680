import { clientSubjectDn } from '../pki/certificates.js';
import { scopeList, type ScopeCatalog } from '../scopes/scope-catalog.js';
import type { ClientRecord, ClientStore } from '../stores/client-store.js';

/** RFC 6749's "no redirect" value: kept as a label on clients that never redirect. */
export const OOB_REDIRECT = 'urn:ietf:wg:oauth:2.0:oob';

/** A redirect URI with a private-use scheme (RFC 8252 7.1): neither http(s) nor the oob label. */
export const isPrivateUseUri = (uri: string): boolean => !/^https?:/i.test(uri) && uri !== OOB_REDIRECT;

/** Contract 5.1: without an explicit type, a client redirecting to a private-use scheme is native. */
export const inferApplicationType = (redirectUris: readonly string[]): 'web' | 'native' =>
  redirectUris.some(isPrivateUseUri) ? 'native' : 'web';

/**
 * A client as read from the store, with the contract's values for fields that records written
 * by earlier versions lack (the same inference a create makes).
 */
export function withCurrentFields(record: ClientRecord): ClientRecord {
  const stored = record as Partial<ClientRecord> & ClientRecord;
  return {
    ...record,
    application_type: stored.application_type ?? inferApplicationType(record.redirect_uris),
    post_logout_redirect_uris: stored.post_logout_redirect_uris ?? [],
    backchannel_logout_uri: stored.backchannel_logout_uri ?? null,
    require_consent: stored.require_consent ?? !record.first_party,
    previous_secret_hash: stored.previous_secret_hash ?? null,
    previous_secret_expires_at: stored.previous_secret_expires_at ?? null,
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
  };
}

/** Auth methods that present a shared secret, so the client has a hashed `client_secret`. */
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
  'secret_version',
  'certificate_thumbprints',
  'require_consent',
  'previous_secret_hash',
  'previous_secret_expires_at',
] as const;

/** The metadata oidc-provider works from. Its `client_secret` is the argon2id hash. */
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
    secret_version: record.secret_version,
  };
  if (SECRET_AUTH_METHODS.has(record.token_endpoint_auth_method) && record.secret_hash) {
    metadata.client_secret = record.secret_hash;
    // Whether the overlap is still on is decided per check (crypto/secret-checker.ts), not here.
    if (record.previous_secret_hash && record.previous_secret_expires_at) {
      metadata.previous_secret_hash = record.previous_secret_hash;
      metadata.previous_secret_expires_at = record.previous_secret_expires_at;
    }
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
