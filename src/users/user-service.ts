import { randomUUID } from 'node:crypto';
import { hashSecret } from '../crypto/secrets.js';
import type { ClientStore, UserRecord } from '../stores/client-store.js';

export interface NewUser {
  account_id: string;
  username: string;
  password: string;
  email?: string | null;
  role: 'admin' | 'member';
}

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

export function createUserService(deps: { clientStore: ClientStore }) {
  return {
    /** Stores a user with an argon2id hash of the password. */
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
      await deps.clientStore.createUser(user);
      return user;
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
