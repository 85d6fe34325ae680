/**
 * The client store port: everything Tessera keeps for good (clients, accounts, users, signing
 * and cookie keys, the audit log). Implementations live in `adapters/` (SQLite, MongoDB) and
 * must pass `test/adapters/client-store-contract.ts`.
 *
 * Rules every implementation keeps:
 * - records come back as plain copies; mutating one never changes the store;
 * - uniqueness (client id, client name within an account, username within an account,
 *   account id) is enforced by the store itself and reported as `StoreConflictError`;
 * - each method is atomic on its own; none needs a multi-document transaction.
 */

/** An issued client certificate, as recorded on the client (never the private key). */
export interface CertificateRecord {
  serial: string;
  sha256_thumbprint: string;
  not_after: string;
  revoked: boolean;
}

/**
 * One working secret of a client. `hash` is its argon2id hash and never leaves the service
 * layer; the secret itself is never stored.
 */
export interface ClientSecretRecord {
  id: string;
  label: string | null;
  /** The secret's first 4 characters; null for a secret stored before hints were kept. */
  hint: string | null;
  hash: string;
  created_at: string;
  /** When it stops working; null: never by itself. */
  expires_at: string | null;
  last_used_at: string | null;
}

/** A client as stored. Its secrets' hashes never leave the service layer. */
export interface ClientRecord {
  client_id: string;
  account_id: string;
  client_name: string;
  description: string;
  client_type: 'confidential' | 'public';
  /** OpenID Registration's `application_type`: which redirect URIs the client may register. */
  application_type: 'web' | 'native';
  grant_types: string[];
  redirect_uris: string[];
  /** Where RP-initiated logout may send the browser back to (exact match). */
  post_logout_redirect_uris: string[];
  /** Where back-channel logout tokens are POSTed when a user's session ends. */
  backchannel_logout_uri: string | null;
  scope: string;
  token_endpoint_auth_method: string;
  tls_client_certificate_bound_access_tokens: boolean;
  access_token_ttl: number;
  service_user_id: string | null;
  certificates: CertificateRecord[];
  jwks: { keys: Record<string, unknown>[] } | null;
  first_party: boolean;
  /** Ask the user before granting scopes they have not granted this client yet. */
  require_consent: boolean;
  disabled: boolean;
  /** The secrets that may work, newest first (expired ones linger until the next change). */
  secrets: ClientSecretRecord[];
  /** Bumped on every change of `secrets`: the compare-and-set of `replaceClientSecrets`. */
  secret_version: number;
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
}

export interface AccountRecord {
  id: string;
  name: string;
  max_clients: number | null;
  created_at: string;
  updated_at: string;
}

export interface UserRecord {
  id: string;
  account_id: string;
  username: string;
  email: string | null;
  role: 'admin' | 'member';
  password_hash: string;
  disabled: boolean;
  created_at: string;
  updated_at: string;
}

/** A resource server (RFC 8707): an API that tokens can be issued for. */
export interface ResourceRecord {
  id: string;
  account_id: string;
  /** The absolute URI clients name in `resource=`; unique in the deployment. */
  identifier: string;
  name: string;
  /** The scopes tokens for this resource may carry, space-separated. */
  scope: string;
  access_token_format: 'opaque' | 'jwt';
  /** Seconds; null: the client's lifetime alone decides. */
  access_token_ttl: number | null;
  created_at: string;
  updated_at: string;
}

export interface AuditRecord {
  id: string;
  account_id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

/** A page of a newest-first listing; `next_cursor` is opaque to callers. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface ListOptions {
  limit: number;
  cursor?: string | undefined;
}

export interface ClientListOptions extends ListOptions {
  /** Case-insensitive substring of `client_name`. */
  q?: string | undefined;
  /** Only clients registered for this grant type. */
  grantType?: string | undefined;
  /** Only disabled (true) or only enabled (false) clients. */
  disabled?: boolean | undefined;
}

/** A client's use in one clock hour. */
export interface UsageCount {
  /** The hour's start, ISO 8601 (`2026-12-01T13:00:00.000Z`). */
  hour: string;
  tokens_issued: number;
  auth_failures: number;
}

export interface AuditListOptions extends ListOptions {
  /** Only entries about this target (`client:<id>`, `user:<id>`, ...). */
  target?: string | undefined;
}

/** Fields of a client that `updateClient` may change (secrets change through `replaceClientSecrets`). */
export type ClientPatch = Partial<
  Omit<ClientRecord, 'client_id' | 'account_id' | 'created_at' | 'secrets' | 'secret_version'>
>;
export type ResourcePatch = Partial<
  Pick<
    ResourceRecord,
    'identifier' | 'name' | 'scope' | 'access_token_format' | 'access_token_ttl' | 'updated_at'
  >
>;
export type AccountPatch = Partial<Pick<AccountRecord, 'name' | 'max_clients' | 'updated_at'>>;
export type UserPatch = Partial<
  Pick<UserRecord, 'email' | 'role' | 'password_hash' | 'disabled' | 'updated_at'>
>;

export interface ClientStore {
  /** Inserts a client; `StoreConflictError('client_id' | 'client_name')` on a duplicate. */
  createClient(client: ClientRecord): Promise<void>;
  getClient(clientId: string): Promise<ClientRecord | null>;
  /** Newest first (by `created_at`, then `client_id`), optionally filtered by name, grant type and status. */
  listClients(accountId: string, options: ClientListOptions): Promise<Page<ClientRecord>>;
  countClients(accountId: string): Promise<number>;
  /** Applies `patch` and returns the new record, or null when the client does not exist. */
  updateClient(clientId: string, patch: ClientPatch): Promise<ClientRecord | null>;
  /** Sets `last_used_at` only when it moves forward; never touches `updated_at`. */
  touchClient(clientId: string, at: string): Promise<void>;
  /**
   * Compare-and-set of a client's secrets: stores `secrets`, `secret_version + 1` and
   * `updated_at` only while the stored `secret_version` is `version`. Resolves the new record, or
   * null when the client is gone or another change came first (so of racing changes one wins).
   */
  replaceClientSecrets(
    clientId: string,
    version: number,
    secrets: ClientSecretRecord[],
    updatedAt: string,
  ): Promise<ClientRecord | null>;
  /**
   * Sets the `last_used_at` of one secret to `at` when it is null or at least `minIntervalMs`
   * older, so however many nodes note uses, each secret is written at most once per interval.
   * Changes nothing else, `secret_version` and `updated_at` included.
   */
  touchClientSecret(clientId: string, secretId: string, at: string, minIntervalMs: number): Promise<void>;
  /**
   * Adds `counts` to the client's hourly usage (several processes adding to one hour sum up), and
   * forgets every client's hours before `keepFrom`.
   */
  addUsage(clientId: string, counts: UsageCount[], keepFrom: string): Promise<void>;
  /** The client's hours from `fromHour` on, oldest first; hours without any use are absent. */
  listUsage(clientId: string, fromHour: string): Promise<UsageCount[]>;
  deleteClient(clientId: string): Promise<boolean>;
  /** Appends an issued certificate and sets `updated_at`; null when the client does not exist. */
  addCertificate(
    clientId: string,
    certificate: CertificateRecord,
    updatedAt: string,
  ): Promise<ClientRecord | null>;
  /**
   * Marks the certificate with `serial` revoked and sets `updated_at`; null when the client or
   * the certificate does not exist.
   */
  revokeCertificate(clientId: string, serial: string, updatedAt: string): Promise<ClientRecord | null>;
  /** Drops the certificates with these serials from the client (expired or revoked ones). */
  removeCertificates(clientId: string, serials: string[]): Promise<void>;

  /** Inserts an account; `StoreConflictError('account_id')` when the id exists. */
  createAccount(account: AccountRecord): Promise<void>;
  getAccount(accountId: string): Promise<AccountRecord | null>;
  listAccounts(options: ListOptions): Promise<Page<AccountRecord>>;
  updateAccount(accountId: string, patch: AccountPatch): Promise<AccountRecord | null>;

  /** Inserts a user; `StoreConflictError('user_id' | 'username')` on a duplicate. */
  createUser(user: UserRecord): Promise<void>;
  getUser(userId: string): Promise<UserRecord | null>;
  findUserByUsername(accountId: string, username: string): Promise<UserRecord | null>;
  listUsers(accountId: string, options: ListOptions): Promise<Page<UserRecord>>;
  updateUser(userId: string, patch: UserPatch): Promise<UserRecord | null>;
  deleteUser(userId: string): Promise<boolean>;

  /** Inserts a resource server; `StoreConflictError('resource_id' | 'identifier')` on a duplicate. */
  createResource(resource: ResourceRecord): Promise<void>;
  getResource(resourceId: string): Promise<ResourceRecord | null>;
  findResourceByIdentifier(identifier: string): Promise<ResourceRecord | null>;
  /** The account's resource servers, newest first. */
  listResources(accountId: string, options: ListOptions): Promise<Page<ResourceRecord>>;
  /** Applies `patch`; null when there is no such resource; `StoreConflictError('identifier')`. */
  updateResource(resourceId: string, patch: ResourcePatch): Promise<ResourceRecord | null>;
  deleteResource(resourceId: string): Promise<boolean>;

  /**
   * Returns the value stored under `name`, storing `create()`'s result first if there is none.
   * When several processes race, all of them get the one value that was stored first.
   */
  ensureSecretValue<T>(name: string, create: () => T): Promise<T>;

  /**
   * Compare-and-set for a value that changes: stores `next` under `name` only while the stored
   * value's `revision` field is `revision` (null: the stored value has none). Resolves whether it
   * was stored, so of several callers replacing the same revision exactly one succeeds.
   */
  replaceSecretValue<T extends { revision: string }>(
    name: string,
    revision: string | null,
    next: T,
  ): Promise<boolean>;

  /** Appends an entry; `StoreConflictError('audit_id')` when an entry with its id exists. */
  appendAudit(entry: AuditRecord): Promise<void>;
  /** The account's audit entries, newest first, optionally of one target only. */
  listAudit(accountId: string, options: AuditListOptions): Promise<Page<AuditRecord>>;

  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
