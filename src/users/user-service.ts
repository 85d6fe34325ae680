import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { AuditService } from '../audit/audit-service.js';
import { hashSecret } from '../crypto/secrets.js';
import { notFound } from '../errors.js';
import { definedFields } from '../objects.js';
import type { ClientDirectory } from '../clients/client-directory.js';
import type { ClientStore, Page, UserRecord } from '../stores/client-store.js';

export interface NewUser {
  account_id: string;
  username: string;
  password: string;
  email?: string | null;
  role: 'admin' | 'member';
}

const userFields = {
  username: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._@+-]+$/, 'may contain letters, digits and . _ @ + - only'),
  password: z.string().min(12, 'must be at least 12 characters').max(1024),
  email: z.email().max(254).nullable(),
  role: z.enum(['admin', 'member']),
  disabled: z.boolean(),
};

/** `POST /users`. */
export const createUserSchema = z.strictObject({
  username: userFields.username,
  password: userFields.password,
  email: userFields.email.optional(),
  role: userFields.role,
});

/** `PATCH /users/{id}`: the username is the login name and does not change. */
export const patchUserSchema = z.strictObject({
  password: userFields.password.optional(),
  email: userFields.email.optional(),
  role: userFields.role.optional(),
  disabled: userFields.disabled.optional(),
});

/** The user view: an allow-list without the password hash. */
export function userView(user: UserRecord) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: user.role,
    disabled: user.disabled,
    created_at: user.created_at,
    updated_at: user.updated_at,
  };
}

export function createUserService(deps: {
  clientStore: ClientStore;
  audit?: AuditService;
  /** Runs a write that may change how clients of the account authenticate (service users). */
  change: ClientDirectory['change'];
}) {
  const { clientStore, change } = deps;

  async function ownUser(principal: Principal, userId: string): Promise<UserRecord> {
    const user = await clientStore.getUser(userId);
    if (!user || user.account_id !== principal.accountId) throw notFound('no such user');
    return user;
  }

  const service = {
    /** Stores a user with an argon2id hash of the password; `409 conflict` for a taken username. */
    async create(input: NewUser): Promise<UserRecord> {
      const now = new Date().toISOString();
      const user: UserRecord = {
        id: randomUUID(),
        account_id: input.account_id,
        username: input.username,
        email: input.email ?? null,
        role: input.role,
        password_hash: await hashSecret(input.password),
        disabled: false,
        created_at: now,
        updated_at: now,
      };
      await clientStore.createUser(user);
      return user;
    },

    async register(principal: Principal, input: z.infer<typeof createUserSchema>) {
      const user = await service.create({ ...input, account_id: principal.accountId });
      await deps.audit?.record(principal.accountId, principal.actor, 'user.create', `user:${user.id}`, {
        username: user.username,
        role: user.role,
      });
      return userView(user);
    },

    async list(
      principal: Principal,
      options: { limit: number; cursor?: string },
    ): Promise<Page<ReturnType<typeof userView>>> {
      const page = await clientStore.listUsers(principal.accountId, options);
      return { data: page.data.map(userView), next_cursor: page.next_cursor };
    },

    async get(principal: Principal, userId: string) {
      return userView(await ownUser(principal, userId));
    },

    async update(principal: Principal, userId: string, patch: z.infer<typeof patchUserSchema>) {
      await ownUser(principal, userId);
      const { password, ...rest } = patch;
      const passwordHash = password === undefined ? undefined : await hashSecret(password);
      const updated = await change(principal.accountId, () =>
        clientStore.updateUser(userId, {
          ...rest,
          ...(passwordHash === undefined ? {} : { password_hash: passwordHash }),
          updated_at: new Date().toISOString(),
        }),
      );
      if (!updated) throw notFound('no such user');
      // Field names only: a password never reaches the audit log.
      await deps.audit?.record(principal.accountId, principal.actor, 'user.update', `user:${userId}`, {
        fields: definedFields(patch),
      });
      return userView(updated);
    },

    async remove(principal: Principal, userId: string): Promise<void> {
      const user = await ownUser(principal, userId);
      if (!(await change(principal.accountId, () => clientStore.deleteUser(userId)))) {
        throw notFound('no such user');
      }
      await deps.audit?.record(principal.accountId, principal.actor, 'user.delete', `user:${userId}`, {
        username: user.username,
      });
    },
  };
  return service;
}

export type UserService = ReturnType<typeof createUserService>;
