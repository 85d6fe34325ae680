import { clientSubjectDn } from '../pki/certificates.js';
import type { ClientRecord } from '../stores/client-store.js';

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
] as const;

/** The metadata oidc-provider works from. Its `client_secret` is the argon2id hash. */
export type ProviderClientMetadata = Record<string, unknown> & { client_id: string };

/**
 * Maps a stored client to the metadata oidc-provider sees, or undefined when the client must
 * not authenticate at all (disabled). Only what the protocol needs crosses over.
 */
export function toProviderMetadata(record: ClientRecord): ProviderClientMetadata | undefined {
  if (record.disabled) return undefined;
  const metadata: ProviderClientMetadata = {
    client_id: record.client_id,
    client_name: record.client_name,
    grant_types: record.grant_types,
    response_types: record.grant_types.includes('authorization_code') ? ['code'] : [],
    redirect_uris: record.redirect_uris,
    token_endpoint_auth_method: record.token_endpoint_auth_method,
    account_id: record.account_id,
    access_token_ttl: record.access_token_ttl,
    first_party: record.first_party,
    service_user_id: record.service_user_id,
    secret_version: record.secret_version,
  };
  if (SECRET_AUTH_METHODS.has(record.token_endpoint_auth_method) && record.secret_hash) {
    metadata.client_secret = record.secret_hash;
  }
  // RFC 8252: a public client redirecting to a private-use scheme is a native app, which is
  // what oidc-provider needs to hear to accept such a URI.
  if (record.client_type === 'public' && record.redirect_uris.some((uri) => !/^https?:/i.test(uri))) {
    metadata.application_type = 'native';
  }
  // oidc-provider refuses an empty scope string; no scope means "no scopes allowed" here.
  if (record.scope) metadata.scope = record.scope;
  if (record.jwks) metadata.jwks = record.jwks;
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
