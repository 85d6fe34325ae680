import { CONSOLE_CLIENT_ID } from '../bootstrap.js';
import { SecretChecksBusyError, type SecretChecker } from '../crypto/secret-checker.js';
import type { ClientStore, ClientRecord, UserRecord } from '../stores/client-store.js';
import type { Limiter, LimitRule } from '../stores/limiter.js';

/** The authorization parameter with which the console names the account to sign in to. */
export const CONSOLE_ACCOUNT_PARAM = 'tessera_account';

/**
 * Failed sign-ins allowed per 15 minutes before `429` (contract section 8): per username and
 * address, per address, and per username from all addresses only as a far higher backstop, so
 * that a few wrong passwords from elsewhere never lock a user out.
 */
export const LOGIN_LIMITS = {
  perUserAndAddress: { name: 'login-user-addr', points: 5, windowSeconds: 15 * 60 },
  perAddress: { name: 'login-addr', points: 20, windowSeconds: 15 * 60 },
  perUsername: { name: 'login-user', points: 100, windowSeconds: 15 * 60 },
} as const satisfies Record<string, LimitRule>;

export type SignInResult =
  | { outcome: 'signed_in'; userId: string }
  /** Unknown user, wrong password or disabled user alike: no enumeration. */
  | { outcome: 'refused' }
  | { outcome: 'throttled'; retryAfterSeconds: number }
  /** The argon2 limits are full; retry in a moment. */
  | { outcome: 'busy' };

/** What the sign-in pages need: the client and user they name, and password checks with throttling. */
export function createLoginService(deps: {
  clientStore: ClientStore;
  limiter: Limiter;
  secrets: SecretChecker;
}) {
  const { clientStore, limiter, secrets } = deps;
  return {
    async client(clientId: unknown): Promise<ClientRecord | null> {
      return typeof clientId === 'string' ? clientStore.getClient(clientId) : null;
    },

    /**
     * The account whose users sign in for `client`: the client's own, except that the console
     * (a client of account `default`) serves every tenant and names the account it signs in to.
     */
    accountFor(client: ClientRecord | null, params: Record<string, unknown>): string | undefined {
      if (client?.client_id === CONSOLE_CLIENT_ID && typeof params[CONSOLE_ACCOUNT_PARAM] === 'string') {
        return params[CONSOLE_ACCOUNT_PARAM];
      }
      return client?.account_id;
    },

    async user(userId: string): Promise<UserRecord | null> {
      return clientStore.getUser(userId);
    },

    /** Checks `password` for `username` in `accountId`, signing in from `address`. */
    async signIn(input: {
      accountId: string | undefined;
      username: string;
      password: string;
      address: string;
    }): Promise<SignInResult> {
      const user = `${input.accountId ?? '-'}:${input.username.toLowerCase()}`;
      const limits = [
        [LOGIN_LIMITS.perUserAndAddress, `${user}|${input.address}`],
        [LOGIN_LIMITS.perAddress, input.address],
        [LOGIN_LIMITS.perUsername, user],
      ] as const;
      // Checked before the password, so a flood of guesses costs no argon2 work.
      const states = await Promise.all(limits.map(([rule, key]) => limiter.check(rule, key)));
      const limited = states.filter((state) => state.limited);
      if (limited.length > 0) {
        return {
          outcome: 'throttled',
          retryAfterSeconds: Math.max(...limited.map((s) => s.retryAfterSeconds)),
        };
      }
      const found =
        input.accountId && input.username
          ? await clientStore.findUserByUsername(input.accountId, input.username)
          : null;
      let ok: boolean;
      try {
        ok =
          !!found &&
          !found.disabled &&
          input.password.length > 0 &&
          (await secrets.checkPassword(found.id, found.password_hash, input.password));
      } catch (error) {
        if (error instanceof SecretChecksBusyError) return { outcome: 'busy' };
        throw error;
      }
      if (!ok) {
        await Promise.all(limits.map(([rule, key]) => limiter.hit(rule, key)));
        return { outcome: 'refused' };
      }
      // A success clears this address's count for the user; the others run their course.
      await limiter.reset(...limits[0]);
      return { outcome: 'signed_in', userId: found!.id };
    },
  };
}

export type LoginService = ReturnType<typeof createLoginService>;
