import { randomUUID } from 'node:crypto';
import type { AuditListOptions, AuditRecord, ClientStore, Page } from '../stores/client-store.js';

/** What an audit entry may carry: names and values that are never secrets, hashes or keys. */
export type AuditDetails = Record<string, string | number | boolean | null | string[]>;

export function createAuditService(deps: { clientStore: ClientStore }) {
  return {
    /** Appends one entry to the account's audit log. */
    async record(
      accountId: string,
      actor: string,
      action: string,
      target: string,
      details: AuditDetails = {},
    ): Promise<void> {
      await deps.clientStore.appendAudit({
        id: randomUUID(),
        account_id: accountId,
        at: new Date().toISOString(),
        actor,
        action,
        target,
        details,
      });
    },
    /** The account's entries, newest first, in the contract's shape. */
    async list(
      accountId: string,
      options: AuditListOptions,
    ): Promise<Page<Pick<AuditRecord, 'at' | 'actor' | 'action' | 'target' | 'details'>>> {
      const page = await deps.clientStore.listAudit(accountId, options);
      return {
        data: page.data.map(({ at, actor, action, target, details }) => ({
          at,
          actor,
          action,
          target,
          details,
        })),
        next_cursor: page.next_cursor,
      };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
