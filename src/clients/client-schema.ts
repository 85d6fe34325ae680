import { z } from 'zod';
import { AppError } from '../errors.js';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export const AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
  'none',
] as const;

const clientFields = {
  client_name: z.string().trim().min(1).max(100),
  description: z.string().max(1000),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).max(3),
  redirect_uris: z.array(z.string().min(1).max(2000)).max(20),
  post_logout_redirect_uris: z.array(z.string().min(1).max(2000)).max(20),
  backchannel_logout_uri: z.string().min(1).max(2000).nullable(),
  scope: z.string().max(2000),
  token_endpoint_auth_method: z.enum(AUTH_METHODS),
  access_token_ttl: z.number().int(),
  service_user_id: z.string().min(1).max(200).nullable(),
  first_party: z.boolean(),
  require_consent: z.boolean(),
  application_type: z.enum(['web', 'native']),
  tls_client_certificate_bound_access_tokens: z.boolean(),
  jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(10) }).nullable(),
};

/** `POST /clients`: only `client_name` is required; unknown fields are refused. */
export const createClientSchema = z.strictObject({
  ...clientFields,
  description: clientFields.description.optional(),
  grant_types: clientFields.grant_types.optional(),
  redirect_uris: clientFields.redirect_uris.optional(),
  post_logout_redirect_uris: clientFields.post_logout_redirect_uris.optional(),
  backchannel_logout_uri: clientFields.backchannel_logout_uri.optional(),
  scope: clientFields.scope.optional(),
  token_endpoint_auth_method: clientFields.token_endpoint_auth_method.optional(),
  access_token_ttl: clientFields.access_token_ttl.optional(),
  service_user_id: clientFields.service_user_id.optional(),
  first_party: clientFields.first_party.optional(),
  require_consent: clientFields.require_consent.optional(),
  application_type: clientFields.application_type.optional(),
  tls_client_certificate_bound_access_tokens:
    clientFields.tls_client_certificate_bound_access_tokens.optional(),
  jwks: clientFields.jwks.optional(),
  /** Also issue a client certificate (for `tls_client_auth`), returned once with its key. */
  issue_certificate: z.boolean().optional(),
});

/** `PATCH /clients/{id}`: any field of the create call, plus `disabled`. */
export const patchClientSchema = createClientSchema
  .omit({ issue_certificate: true })
  .partial()
  .extend({ disabled: z.boolean().optional() })
  .strict();

/** A whole number of seconds within `min ..= max`. */
export const seconds = (min: number, max: number) =>
  z
    .number()
    .int('must be a whole number of seconds')
    .min(min, `must be between ${min} and ${max} seconds`)
    .max(max, `must be between ${min} and ${max} seconds`);

/**
 * `POST /clients/{id}/secret`: optionally keep the other secrets working for a while, or (for a
 * leaked secret) revoke every token of the client at once.
 */
export const rotateSecretSchema = z.strictObject({
  previous_secret_expires_in: seconds(1, 86400).optional(),
  revoke_tokens: z.boolean().optional(),
});

/** `POST /clients/{id}/secrets`: one more secret, optionally labelled and expiring (up to 10 years). */
export const addSecretSchema = z.strictObject({
  label: z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters').optional(),
  expires_in: seconds(60, 315_360_000).optional(),
});

export type CreateClientInput = z.infer<typeof createClientSchema>;
export type PatchClientInput = z.infer<typeof patchClientSchema>;

/** Parses `body` with `schema`, turning the first problem into `400 <code>` with a readable description. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, code = 'invalid_client_metadata'): T {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError(400, 'invalid_request', 'the request body must be a JSON object');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new AppError(
      400,
      code,
      `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`,
    );
  }
  const where = issue.path.length ? issue.path.join('.') : 'body';
  const field = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
  throw new AppError(400, code, `${where}: ${issue.message}`, field ? { field } : undefined);
}
