import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { CONSOLE_CLIENT_ID, CONSOLE_SCOPE, DEFAULT_ACCOUNT_ID } from '../bootstrap.js';
import type { Config } from '../config.js';
import { CONSOLE_ACCOUNT_PARAM } from '../interactions/login-service.js';
import { ROUTES } from '../provider/create-provider.js';
import type { ConsoleTokens, PendingSignIn } from './session.js';

/** Why the console could not get or keep its tokens: the user signs in again. */
export class ConsoleSignInError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsoleSignInError';
  }
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
}

/**
 * The console as an OAuth client of this Tessera (a backend for frontend): authorization code
 * with PKCE through the browser, and the code exchanged, refreshed and revoked on the server.
 * Token calls go to this process's own plain listener on loopback, so they work behind any proxy
 * and whatever name `ISSUER` has.
 */
export function createConsoleOAuth(deps: { config: Config; now?: () => number }) {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const redirectUri = `${config.issuer}/admin/callback`;
  const backChannel = `http://127.0.0.1:${config.port}`;

  async function post(path: string, form: Record<string, string>): Promise<Response> {
    return fetch(`${backChannel}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ client_id: CONSOLE_CLIENT_ID, ...form }),
    });
  }

  /** A token request; its answer must carry an access token. */
  async function tokenRequest(
    form: Record<string, string>,
  ): Promise<TokenResponse & { access_token: string }> {
    const response = await post(ROUTES.token, form);
    const body = (await response.json().catch(() => ({}))) as TokenResponse & { error?: string };
    if (!response.ok || !body.access_token) {
      throw new ConsoleSignInError(`${form.grant_type} refused (${response.status} ${body.error ?? ''})`);
    }
    return body as TokenResponse & { access_token: string };
  }

  const consoleTokens = (userId: string, body: TokenResponse & { access_token: string }): ConsoleTokens => ({
    userId,
    accessToken: body.access_token,
    refreshToken: body.refresh_token ?? null,
    expiresAt: now() + (body.expires_in ?? 60) * 1000,
  });

  return {
    /** A new sign-in: the pending state to keep, and where to send the browser. */
    start(returnTo: string, account: string | null): { pending: PendingSignIn; url: string } {
      const pending: PendingSignIn = {
        state: randomBytes(24).toString('base64url'),
        nonce: randomBytes(24).toString('base64url'),
        verifier: randomBytes(32).toString('base64url'),
        returnTo,
        account,
      };
      const query = new URLSearchParams({
        client_id: CONSOLE_CLIENT_ID,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: CONSOLE_SCOPE,
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: createHash('sha256').update(pending.verifier).digest('base64url'),
        code_challenge_method: 'S256',
        ...(account && account !== DEFAULT_ACCOUNT_ID ? { [CONSOLE_ACCOUNT_PARAM]: account } : {}),
      });
      return { pending, url: `${config.issuer}${ROUTES.authorization}?${query}` };
    },

    /** Exchanges the callback's code; the ID token's nonce and audience must be this sign-in's. */
    async exchange(pending: PendingSignIn, code: string): Promise<ConsoleTokens> {
      const body = await tokenRequest({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: pending.verifier,
      });
      if (!body.id_token) throw new ConsoleSignInError('the code exchange returned no ID token');
      // The ID token came straight from this server over the back channel (OpenID Connect Core
      // 3.1.3.7 lets a direct channel stand in for its signature); its claims must match.
      const claims = decodeJwt(body.id_token);
      if (
        claims.nonce !== pending.nonce ||
        claims.aud !== CONSOLE_CLIENT_ID ||
        claims.iss !== config.issuer
      ) {
        throw new ConsoleSignInError('the ID token is not for this sign-in');
      }
      if (typeof claims.sub !== 'string') throw new ConsoleSignInError('the ID token names no user');
      return consoleTokens(claims.sub, body);
    },

    /** New tokens from the refresh token (which rotates: the console is a public client). */
    async refresh(current: ConsoleTokens): Promise<ConsoleTokens> {
      if (!current.refreshToken) throw new ConsoleSignInError('no refresh token');
      const body = await tokenRequest({ grant_type: 'refresh_token', refresh_token: current.refreshToken });
      return consoleTokens(current.userId, body);
    },

    /** Revokes the console's grant: its refresh token and every access token of the grant. */
    async revoke(current: ConsoleTokens): Promise<void> {
      const token = current.refreshToken ?? current.accessToken;
      await post(ROUTES.revocation, { token });
    },

    /** Whether the access token should be renewed before use (it expires within a minute). */
    expiring(current: ConsoleTokens): boolean {
      return current.expiresAt - now() < 60_000;
    },
  };
}

export type ConsoleOAuth = ReturnType<typeof createConsoleOAuth>;
