import { existsSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { GeneratedCredentials } from './bootstrap.js';
import {
  buildScopeCatalog,
  parseCatalogFile,
  ScopeCatalogError,
  type CatalogFile,
  type ScopeCatalog,
} from './scopes/scope-catalog.js';

/** The scopes that act in the admin API. */
export const ADMIN_API_SCOPES = [
  'admin',
  'accounts:admin',
  'clients:read',
  'clients:write',
  'users:read',
  'users:write',
] as const;

/** The admin API's scopes, for membership checks. */
export const ADMIN_SCOPE_SET: ReadonlySet<string> = new Set(ADMIN_API_SCOPES);

/** Scopes every deployment has; `TESSERA_SCOPES` adds to them. */
export const BUILTIN_SCOPES = ['openid', 'profile', 'email', 'offline_access', ...ADMIN_API_SCOPES] as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What each built-in scope is for, as the console and the consent page describe it. */
const BUILTIN_DESCRIPTIONS: Record<(typeof BUILTIN_SCOPES)[number], string> = {
  openid: 'Sign the user in (OpenID Connect)',
  profile: "The user's username",
  email: "The user's email address",
  offline_access: 'Keep access while the user is away',
  admin: 'Everything in the admin API within the account',
  'accounts:admin': 'Create and manage accounts (account default only)',
  'clients:read': 'Read the OAuth clients of the account',
  'clients:write': 'Create, change and delete the OAuth clients of the account',
  'users:read': 'Read the users of the account',
  'users:write': 'Create, change and delete the users of the account',
};

export interface Config {
  readonly port: number;
  readonly mtlsPort: number;
  readonly issuer: string;
  readonly dataDir: string;
  /** Where generated development key material goes (`TESSERA_CERTS_DIR`, default `./certs`). */
  readonly certsDir: string;
  readonly mongodbUri: string | undefined;
  readonly redisUrl: string | undefined;
  readonly accessTokenTtl: number;
  readonly maxAccessTokenTtl: number;
  readonly maxClientsPerAccount: number;
  /** Failed client authentications per client id and source address per 5 minutes before `429`. */
  readonly clientAuthMaxFailures: number;
  /** The deployment's own scopes (from `TESSERA_SCOPES_FILE` or `TESSERA_SCOPES`), without the built-in ones. */
  readonly extraScopes: readonly string[];
  /** Built-in scopes plus `extraScopes`, in that order. */
  readonly scopes: readonly string[];
  /** Descriptions and implications of `scopes` (section 10 of the contract). */
  readonly scopeCatalog: ScopeCatalog;
  readonly adminClientSecret: string | undefined;
  readonly adminPassword: string | undefined;
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  readonly clientCaCertFile: string | undefined;
  readonly clientCaKeyFile: string | undefined;
  readonly mtlsProxyHeader: string | undefined;
  readonly trustedProxies: BlockList;
  readonly logLevel: LogLevel;
  /** Processes serving requests (`TESSERA_WORKERS`; `auto` = one per core). */
  readonly workers: number;
  /** Accounts, clients and users applied at every start (`TESSERA_PROVISION_FILE`). */
  readonly provisionFile: string | undefined;
  /** How JWT access tokens are signed (`TESSERA_JWT_ALG`). */
  readonly jwtAlg: JwtAlg;
  /** `TESSERA_SECRETS_KEY`: the first seals key material at rest, every one opens it. */
  readonly secretsKeys: readonly Buffer[] | undefined;
  /** `TESSERA_KEY_ROTATION_DAYS`: the signing keys' rotation schedule; undefined: off. */
  readonly keyRotationDays: number | undefined;
}

/** The algorithms JWT access tokens may be signed with. */
export const JWT_ALGS = ['ES256', 'RS256'] as const;
export type JwtAlg = (typeof JWT_ALGS)[number];

/** Thrown for a bad setting; its message is the one line printed before exiting. */
export class ConfigError extends Error {
  /** Credentials the bootstrap generated before the setting was found bad: shown all the same. */
  generated?: GeneratedCredentials;

  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** A 256-bit key as `TESSERA_SECRETS_KEY` lists it: 64 hex digits or 43 base64url characters. */
export function parseSecretsKey(text: string): Buffer | undefined {
  const key = /^[0-9a-f]{64}$/i.test(text)
    ? Buffer.from(text, 'hex')
    : /^[\w-]{43}$/.test(text)
      ? Buffer.from(text, 'base64url')
      : undefined;
  return key?.length === 32 ? key : undefined;
}

/** The keys of `TESSERA_SECRETS_KEY`, first one first; a malformed one stops the start, unnamed. */
export function parseSecretsKeys(value: string): Buffer[] {
  const entries = value.split(',').map((entry) => entry.trim());
  return entries.map((entry, i) => {
    const key = parseSecretsKey(entry);
    if (!key) {
      throw new ConfigError(
        'TESSERA_SECRETS_KEY',
        `key ${i + 1} is not 256 bits (64 hex digits or 43 base64url characters)`,
      );
    }
    return key;
  });
}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${raw}`);
  return value;
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use one of ${protocols.map((p) => `${p}//`).join(', ')}`);
  }
  return raw;
}

function issuerUrl(env: Env, port: number): string {
  const raw = read(env, 'ISSUER');
  if (raw === undefined) return `http://localhost:${port}`;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError('ISSUER', 'is not a valid URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ConfigError('ISSUER', 'must be an http:// or https:// URL');
  }
  if (parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw new ConfigError('ISSUER', 'must not contain a query, fragment or credentials');
  }
  // RFC 8414 compares issuers as strings: keep one canonical form without a trailing slash.
  return raw.replace(/\/+$/, '');
}

function secretSetting(env: Env, name: string, minLength: number): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < minLength) {
    throw new ConfigError(name, `must be at least ${minLength} characters long`);
  }
  return raw;
}

function filePair(env: Env, certName: string, keyName: string): [string | undefined, string | undefined] {
  const cert = read(env, certName);
  const key = read(env, keyName);
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(
      cert === undefined ? certName : keyName,
      `must be set together with ${cert === undefined ? keyName : certName}`,
    );
  }
  for (const [name, file] of [
    [certName, cert],
    [keyName, key],
  ] as const) {
    if (file !== undefined && !existsSync(file)) throw new ConfigError(name, `file not found: ${file}`);
  }
  return [cert, key];
}

/**
 * Builds the set of trusted proxy ranges from `a.b.c.d/n`, `v6::/n` or bare addresses.
 * Returns the offending entry when one does not parse.
 */
export function parseTrustedProxies(entries: readonly string[]): BlockList | string {
  const list = new BlockList();
  for (const text of entries) {
    const [address = '', prefixText, ...rest] = text.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) return text;
    const bits = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : /^\d+$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= bits)) return text;
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** True when the peer address is one of the trusted proxies (IPv4-mapped IPv6 counts as IPv4). */
export function isTrustedProxy(address: string | undefined, proxies: BlockList): boolean {
  if (!address) return false;
  const plain = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
  const family = isIP(plain);
  if (family === 0) return false;
  return proxies.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * The deployment's scopes: the catalog of `TESSERA_SCOPES_FILE` when set (contract section 10),
 * else the plain list of `TESSERA_SCOPES`, which implies nothing.
 */
function loadScopeCatalog(env: Env): ScopeCatalog {
  const builtins = BUILTIN_SCOPES.map((name) => ({ name, description: BUILTIN_DESCRIPTIONS[name] }));
  const file = read(env, 'TESSERA_SCOPES_FILE');
  if (file === undefined) {
    const scopesRaw = env.TESSERA_SCOPES === undefined ? 'api:read api:write' : env.TESSERA_SCOPES;
    const own = [...new Set(scopesRaw.split(/\s+/).filter(Boolean))]
      .filter((scope) => !(BUILTIN_SCOPES as readonly string[]).includes(scope))
      .map((name) => {
        if (!SCOPE_TOKEN.test(name) || name.includes('*'))
          throw new ConfigError('TESSERA_SCOPES', `"${name}" is not a valid scope token`);
        return { name };
      });
    return buildScopeCatalog(builtins, own);
  }
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason =
      error instanceof SyntaxError
        ? `is not valid JSON (${error.message})`
        : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    throw new ConfigError('TESSERA_SCOPES_FILE', `${file} ${reason}`);
  }
  try {
    const catalog: CatalogFile = parseCatalogFile(document);
    return buildScopeCatalog(builtins, catalog.scopes);
  } catch (error) {
    if (error instanceof ScopeCatalogError)
      throw new ConfigError('TESSERA_SCOPES_FILE', `${file}: ${error.message}`);
    throw error;
  }
}

/**
 * Reads every setting of the contract once, validates it and returns a frozen object.
 * Throws {@link ConfigError} naming the first bad variable.
 */
export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const mtlsPort = integer(env, 'MTLS_PORT', 3443, 0, 65535);
  const issuer = issuerUrl(env, port);
  const dataDir = path.resolve(read(env, 'TESSERA_DATA_DIR') ?? './data');
  const certsDir = path.resolve(read(env, 'TESSERA_CERTS_DIR') ?? './certs');
  const mongodbUri = url(env, 'MONGODB_URI', ['mongodb:', 'mongodb+srv:']);
  const redisUrl = url(env, 'REDIS_URL', [
    'redis:',
    'rediss:',
    'redis+sentinel:',
    'rediss+sentinel:',
    'redis+cluster:',
    'rediss+cluster:',
  ]);
  const maxAccessTokenTtl = integer(env, 'TESSERA_MAX_ACCESS_TOKEN_TTL', 86400, 60, 31536000);
  const accessTokenTtl = integer(
    env,
    'TESSERA_ACCESS_TOKEN_TTL',
    Math.min(3600, maxAccessTokenTtl),
    60,
    31536000,
  );
  if (accessTokenTtl > maxAccessTokenTtl) {
    throw new ConfigError(
      'TESSERA_ACCESS_TOKEN_TTL',
      `must not exceed TESSERA_MAX_ACCESS_TOKEN_TTL (${maxAccessTokenTtl})`,
    );
  }
  const maxClientsPerAccount = integer(env, 'TESSERA_MAX_CLIENTS_PER_ACCOUNT', 100, 1, 1_000_000);
  const clientAuthMaxFailures = integer(env, 'TESSERA_CLIENT_AUTH_MAX_FAILURES', 20, 1, 1_000_000);

  const scopeCatalog = loadScopeCatalog(env);
  const scopes = scopeCatalog.names;
  const extraScopes = scopes.slice(BUILTIN_SCOPES.length);

  const adminClientSecret = secretSetting(env, 'TESSERA_ADMIN_CLIENT_SECRET', 32);
  const adminPassword = secretSetting(env, 'TESSERA_ADMIN_PASSWORD', 12);
  const [tlsCertFile, tlsKeyFile] = filePair(env, 'TESSERA_TLS_CERT', 'TESSERA_TLS_KEY');
  const [clientCaCertFile, clientCaKeyFile] = filePair(
    env,
    'TESSERA_CLIENT_CA_CERT',
    'TESSERA_CLIENT_CA_KEY',
  );

  const mtlsProxyHeader = read(env, 'TESSERA_MTLS_PROXY_HEADER')?.toLowerCase();
  if (mtlsProxyHeader !== undefined && !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(mtlsProxyHeader)) {
    throw new ConfigError('TESSERA_MTLS_PROXY_HEADER', 'is not a valid HTTP header name');
  }
  const proxyEntries = (read(env, 'TESSERA_TRUSTED_PROXIES') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const trustedProxies = parseTrustedProxies(proxyEntries);
  if (typeof trustedProxies === 'string') {
    throw new ConfigError(
      'TESSERA_TRUSTED_PROXIES',
      `"${trustedProxies}" is not an IP address or CIDR range`,
    );
  }
  if (mtlsProxyHeader !== undefined && proxyEntries.length === 0) {
    throw new ConfigError(
      'TESSERA_TRUSTED_PROXIES',
      'must list the proxies allowed to set TESSERA_MTLS_PROXY_HEADER',
    );
  }

  const logLevel = (read(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const workersRaw = read(env, 'TESSERA_WORKERS') ?? '1';
  const workers =
    workersRaw.toLowerCase() === 'auto' ? availableParallelism() : integer(env, 'TESSERA_WORKERS', 1, 1, 64);

  const jwtAlg = (read(env, 'TESSERA_JWT_ALG') ?? 'ES256').toUpperCase();
  if (!(JWT_ALGS as readonly string[]).includes(jwtAlg)) {
    throw new ConfigError('TESSERA_JWT_ALG', `must be one of ${JWT_ALGS.join(', ')}`);
  }
  const provisionFile = read(env, 'TESSERA_PROVISION_FILE');
  if (provisionFile !== undefined && !existsSync(provisionFile)) {
    throw new ConfigError('TESSERA_PROVISION_FILE', `file not found: ${provisionFile}`);
  }

  const secretsKeyValue = read(env, 'TESSERA_SECRETS_KEY');
  const secretsKeys = secretsKeyValue === undefined ? undefined : parseSecretsKeys(secretsKeyValue);
  if (mongodbUri && !secretsKeys) {
    throw new ConfigError(
      'TESSERA_SECRETS_KEY',
      'is required with MONGODB_URI (README, "Key material at rest")',
    );
  }
  const keyRotationDays =
    read(env, 'TESSERA_KEY_ROTATION_DAYS') === undefined
      ? undefined
      : integer(env, 'TESSERA_KEY_ROTATION_DAYS', 0, 1, 365);

  return Object.freeze({
    port,
    mtlsPort,
    issuer,
    dataDir,
    certsDir,
    mongodbUri,
    redisUrl,
    accessTokenTtl,
    maxAccessTokenTtl,
    maxClientsPerAccount,
    clientAuthMaxFailures,
    extraScopes: Object.freeze(extraScopes),
    scopes: Object.freeze([...scopes]),
    scopeCatalog,
    adminClientSecret,
    adminPassword,
    tlsCertFile,
    tlsKeyFile,
    clientCaCertFile,
    clientCaKeyFile,
    mtlsProxyHeader,
    trustedProxies,
    logLevel: logLevel as LogLevel,
    workers,
    provisionFile: provisionFile && path.resolve(provisionFile),
    jwtAlg: jwtAlg as JwtAlg,
    secretsKeys: secretsKeys && Object.freeze(secretsKeys),
    keyRotationDays,
  });
}
