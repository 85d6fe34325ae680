import type { Context } from 'koa';
import type { accountView } from '../accounts/account-service.js';
import type { AuditService } from '../audit/audit-service.js';
import type { Principal } from '../auth/principal.js';
import { renderPage } from '../http/pages.js';
import type { userView } from '../users/user-service.js';
import type { ConsoleSession } from './session.js';

/** Who is signed in to the console, for the pages and their handlers. */
export interface ConsoleState {
  session: ConsoleSession;
  principal: Principal;
  user: ReturnType<typeof userView>;
  account: ReturnType<typeof accountView>;
  csrf: string;
  /** Whether the Accounts pages are offered (administrators of account `default`). */
  accountsAdmin: boolean;
  /** The page's path, for the navigation's current item. */
  path: string;
}

/** The console state `requireAdmin` put on the request. */
export const consoleOf = (ctx: Context): ConsoleState => ctx.state.console as ConsoleState;

/** Renders `views/console/<name>` inside the console's frame (header, navigation, sign-out). */
export function renderConsole(ctx: Context, name: string, data: Record<string, unknown>, status = 200): void {
  const state = ctx.state.console as ConsoleState | undefined;
  renderPage(
    ctx,
    `console/${name}`,
    {
      ...data,
      shell: state
        ? {
            csrf: state.csrf,
            username: state.user.username,
            accountName: state.account.name,
            accountsAdmin: state.accountsAdmin,
            path: state.path,
          }
        : null,
    },
    status,
  );
}

/** A date as the console shows it: UTC, to the minute. */
export function shortTime(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : 'Never';
}

/** Audit entries as the console's tables show them: times to the minute, actors by username. */
export async function auditRows<T extends { at: string; actor: string }>(
  audit: Pick<AuditService, 'actorNames'>,
  accountId: string,
  entries: readonly T[],
): Promise<(T & { time: string; actorName: string })[]> {
  const names = await audit.actorNames(
    accountId,
    entries.map((entry) => entry.actor),
  );
  return entries.map((entry) => ({
    ...entry,
    time: shortTime(entry.at),
    actorName: names.get(entry.actor) ?? entry.actor,
  }));
}

/** The latest 20 audit entries about `target`, for the "Events" table of its page. */
export async function eventsOf(
  audit: Pick<AuditService, 'list' | 'actorNames'>,
  accountId: string,
  target: string,
) {
  const page = await audit.list(accountId, { limit: 20, target });
  return auditRows(audit, accountId, page.data);
}
