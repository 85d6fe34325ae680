import { randomUUID } from 'node:crypto';
import { StoreConflictError } from '../errors.js';
import type { AuditListOptions, AuditRecord, ClientStore, Page } from '../stores/client-store.js';

/** What an audit entry may carry: names and values that are never secrets, hashes or keys. */
export type AuditDetails = Record<string, string | number | boolean | null | string[]>;

export function createAuditService(deps: {
  clientStore: ClientStore;
  /**
   * Gives entries ids derived from what they record, so that processes making the same change
   * at once record it once: an entry whose id exists already is not written again.
   */
  idFor?: (entry: Omit<AuditRecord, 'id' | 'at'>) => string;
}) {
  return {
    /** Appends one entry to the account's audit log. */
    async record(
      accountId: string,
      actor: string,
      action: string,
      target: string,
      details: AuditDetails = {},
    ): Promise<void> {
      const entry = { account_id: accountId, actor, action, target, details };
      try {
        await deps.clientStore.appendAudit({
          id: deps.idFor?.(entry) ?? randomUUID(),
          at: new Date().toISOString(),
          ...entry,
        });
      } catch (error) {
        if (deps.idFor && error instanceof StoreConflictError) return;
        throw error;
      }
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

    /**
     * How a person reads each actor: a user of the account by username (the log keeps
     * `user:<id>`, which survives renames and deletes); anything else as recorded.
     */
    async actorNames(accountId: string, actors: readonly string[]): Promise<Map<string, string>> {
      const names = new Map<string, string>();
      for (const actor of new Set(actors)) {
        const user = actor.startsWith('user:') ? await deps.clientStore.getUser(actor.slice(5)) : null;
        names.set(actor, user && user.account_id === accountId ? user.username : actor);
      }
      return names;
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
