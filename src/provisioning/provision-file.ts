import { z } from 'zod';
import { createClientSchema } from '../clients/client-schema.js';
import { createUserSchema } from '../users/user-service.js';

/** Names of accounts and clients chosen in the file: URL-safe, as generated ones are. */
const ID = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'may contain letters, digits and . _ - only');
const ENV_NAME = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable')
  .max(200);

/**
 * A client of the file: the fields of `POST /clients` with the `client_id` chosen, plus
 * `disabled`, the variable holding the secret and the service user named by username (ids of
 * users are made when they are created, so a file cannot know them).
 */
export const provisionedClientSchema = createClientSchema
  .omit({ issue_certificate: true })
  .extend({
    client_id: ID,
    disabled: z.boolean().optional(),
    client_secret_env: ENV_NAME.optional(),
    service_user: createUserSchema.shape.username.optional(),
  })
  .strict();

export const provisionedUserSchema = createUserSchema
  .omit({ password: true })
  .extend({
    disabled: z.boolean().optional(),
    password_env: ENV_NAME.optional(),
  })
  .strict();

export const provisionedAccountSchema = z.strictObject({
  id: ID,
  name: z.string().trim().min(1).max(100),
  max_clients: z.number().int().min(1).max(1_000_000).nullable().optional(),
  clients: z.array(provisionedClientSchema).max(1000).optional(),
  users: z.array(provisionedUserSchema).max(1000).optional(),
});

export const provisionFileSchema = z.strictObject({
  accounts: z.array(provisionedAccountSchema).max(1000),
});

export type ProvisionFile = z.infer<typeof provisionFileSchema>;
export type ProvisionedAccount = z.infer<typeof provisionedAccountSchema>;
export type ProvisionedClient = z.infer<typeof provisionedClientSchema>;
export type ProvisionedUser = z.infer<typeof provisionedUserSchema>;

/** Why a provisioning file cannot be applied: `where` is the path of the first bad field. */
export class ProvisionFileError extends Error {
  constructor(
    readonly where: string,
    reason: string,
  ) {
    super(where ? `${where}: ${reason}` : reason);
    this.name = 'ProvisionFileError';
  }
}

/** `accounts[0].clients[1].scope` for zod's `['accounts', 0, 'clients', 1, 'scope']`. */
export const fieldPath = (path: readonly PropertyKey[]): string =>
  path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`)).join('');

/** The file's document, checked against the schema; the first problem names its field. */
export function parseProvisionFile(document: unknown): ProvisionFile {
  const result = provisionFileSchema.safeParse(document);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new ProvisionFileError(fieldPath([...issue.path, issue.keys[0]!]), 'unknown field');
  }
  throw new ProvisionFileError(fieldPath(issue.path) || 'the file', issue.message);
}
